import { Inject, Injectable } from '@nestjs/common';
import {
  BUDGET_SERVICE,
  type BudgetServicePattern,
  budgetServiceReplySchemas,
  type budgetServiceRequestSchemas,
} from '@stratavore/contracts';
import { MESSAGE_BUS, type RequestClient } from '@stratavore/messaging';
import { currentCorrelationId } from '@stratavore/observability';
import { type z } from 'zod';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';

export type BudgetServicePayload<P extends BudgetServicePattern> = z.output<
  (typeof budgetServiceRequestSchemas)[P]
>;
export type BudgetServiceReply<P extends BudgetServicePattern> = z.output<
  (typeof budgetServiceReplySchemas)[P]
>;

/**
 * Requests to budget-service over the bus, carrying the HTTP request's correlation id. Payloads
 * were validated at the edge; replies are validated here, so a malformed one is a 502.
 */
@Injectable()
export class BudgetServiceClient {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: RequestClient,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  async request<P extends BudgetServicePattern>(
    pattern: P,
    payload: BudgetServicePayload<P>,
  ): Promise<BudgetServiceReply<P>> {
    const correlationId = currentCorrelationId();
    const reply = await this.bus.request<unknown>(BUDGET_SERVICE, pattern, payload, {
      timeoutMs: this.options.requestTimeoutMs,
      ...(correlationId === undefined ? {} : { correlationId }),
    });
    const parsed = budgetServiceReplySchemas[pattern].safeParse(reply);
    if (!parsed.success) {
      throw new GatewayException(
        GatewayErrorCode.UpstreamError,
        `${BUDGET_SERVICE} sent a malformed reply to ${pattern}`,
        undefined,
        { cause: parsed.error },
      );
    }
    return parsed.data as BudgetServiceReply<P>;
  }
}
