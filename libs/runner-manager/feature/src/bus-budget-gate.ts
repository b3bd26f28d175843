import { Logger } from '@nestjs/common';
import {
  BUDGET_SERVICE,
  BudgetErrorCode,
  releaseBudgetReplySchema,
  type ReleaseBudgetRequest,
  reserveBudgetReplySchema,
  type ReserveBudgetRequestInput,
} from '@stratavore/contracts';
import {
  BusError,
  BusErrorCode,
  RemoteRequestError,
  type RequestClient,
} from '@stratavore/messaging';

import {
  type BudgetGate,
  type BudgetReservationOutcome,
  type BudgetReservationRequest,
} from './budget-gate.port';

export interface BusBudgetGateOptions {
  /** How long one request to budget-service may take (default 5 000 ms). */
  readonly timeoutMs?: number;
}

/** Transport failures after which the same reservation is asked once more (it is idempotent). */
const RETRIED: ReadonlySet<string> = new Set([
  BusErrorCode.RequestTimeout,
  BusErrorCode.Disconnected,
]);

function whyUnavailable(error: unknown): string {
  if (error instanceof RemoteRequestError) {
    return error.code === String(BudgetErrorCode.Internal)
      ? 'budget-service failed to handle the request'
      : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * {@link BudgetGate} over the bus: `budgets.reserve` / `budgets.release` to budget-service,
 * replies checked against their contracts. A reservation that timed out or lost its connection
 * is asked once more with the same id (budget-service answers a repeated granted reservation
 * with the same grant); any other failure, or a malformed reply, is `unavailable`.
 */
export class BusBudgetGate implements BudgetGate {
  private readonly logger = new Logger('BudgetGate');
  private readonly timeoutMs: number;

  constructor(
    private readonly bus: RequestClient,
    options: BusBudgetGateOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async reserve(
    request: BudgetReservationRequest,
    ctx: { readonly correlationId: string },
  ): Promise<BudgetReservationOutcome> {
    const payload: ReserveBudgetRequestInput = {
      reservationId: request.reservationId,
      runnerId: request.runnerId,
      projectId: request.project.id,
      projectName: request.project.name,
      estimate: { tokens: request.estimate.tokens, usd: request.estimate.usd },
    };
    let reply: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        reply = await this.bus.request<unknown>(BUDGET_SERVICE, 'budgets.reserve', payload, {
          timeoutMs: this.timeoutMs,
          correlationId: ctx.correlationId,
        });
        break;
      } catch (error) {
        if (attempt === 1 && error instanceof BusError && RETRIED.has(error.code)) continue;
        return { status: 'unavailable', reason: whyUnavailable(error) };
      }
    }
    const parsed = reserveBudgetReplySchema.safeParse(reply);
    if (!parsed.success) {
      this.logger.error(`budgets.reserve: malformed reply: ${parsed.error.message}`);
      return { status: 'unavailable', reason: 'budget-service sent a malformed reply' };
    }
    const answer = parsed.data;
    if (answer.status === 'refused') {
      return {
        status: 'refused',
        refusal: {
          reservationId: answer.reservationId,
          message: answer.message,
          refusals: answer.refusals,
        },
      };
    }
    return {
      status: 'granted',
      reservationId: answer.reservationId,
      leftTokens: answer.leftTokens,
      leftUsd: answer.leftUsd,
      softOverruns: answer.softOverruns,
    };
  }

  async release(reservationId: string, ctx: { readonly correlationId: string }): Promise<void> {
    const payload: ReleaseBudgetRequest = { reservationId };
    try {
      const reply = await this.bus.request<unknown>(BUDGET_SERVICE, 'budgets.release', payload, {
        timeoutMs: this.timeoutMs,
        correlationId: ctx.correlationId,
      });
      releaseBudgetReplySchema.parse(reply);
    } catch (error) {
      this.logger.warn(
        `reservation ${reservationId} not released (it expires with its time to live): ${whyUnavailable(error)}`,
      );
    }
  }
}
