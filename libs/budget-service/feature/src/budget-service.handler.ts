import { Logger } from '@nestjs/common';
import { BudgetErrorCode, BudgetException, parsePayload } from '@stratavore/budget-service-domain';
import {
  BUDGET_SERVICE,
  budgetServicePatternSchema,
  budgetServiceReplySchemas,
  budgetServiceRequestSchemas,
} from '@stratavore/contracts';
import { type RequestMeta } from '@stratavore/messaging';

import { BudgetQueries, RemoveBudget, SetBudget, UsageSummary } from './budget.use-cases';
import { type BudgetServiceDeps } from './budget-service.deps';
import { CheckBudget, ReleaseBudget, ReserveBudget } from './reservation.use-cases';

/** What the handler tells the module about: the roller's wake-up. */
export interface BudgetChangeListener {
  /** A budget was created or changed: its open period may end earlier than the roller plans. */
  changed(): void;
}

/**
 * Patterns whose replies leave without being parsed against their schema here: the reply of
 * `budgets.check` (asked for every `POST /api/v1/budgets/check`) is built from typed views only,
 * has no defaults or transforms, and its one caller, the gateway, parses it on receipt (a
 * malformed one is its 502), so a second parse of the same object would only cost time.
 */
const REPLIES_CHECKED_BY_THE_CALLER: ReadonlySet<string> = new Set(['budgets.check']);

/**
 * The transport edge of budget-service: validates each payload with its contracts schema
 * (ValidationFailed naming the fields), runs the use case, and checks the reply against its
 * schema (except `budgets.check`'s, see {@link REPLIES_CHECKED_BY_THE_CALLER}). Anything that is
 * not a BudgetException leaves as `INTERNAL` without internals.
 */
export class BudgetServiceRequestHandler {
  readonly service = BUDGET_SERVICE;
  readonly queries: BudgetQueries;
  readonly reserve: ReserveBudget;
  readonly release: ReleaseBudget;
  private readonly setBudget: SetBudget;
  private readonly removeBudget: RemoveBudget;
  private readonly check: CheckBudget;
  private readonly usageSummary: UsageSummary;
  private readonly logger = new Logger('BudgetServiceRequestHandler');

  constructor(deps: BudgetServiceDeps, listener?: BudgetChangeListener) {
    this.queries = new BudgetQueries(deps);
    this.setBudget = new SetBudget(deps, () => listener?.changed());
    this.removeBudget = new RemoveBudget(deps, this.queries);
    this.check = new CheckBudget(this.queries);
    this.reserve = new ReserveBudget(deps);
    this.release = new ReleaseBudget(deps);
    this.usageSummary = new UsageSummary(deps, this.queries);
  }

  /** The bus handler: `bus.respond('budget-service', handler.handle)`. */
  readonly handle = async (pattern: string, payload: unknown, meta: RequestMeta) => {
    try {
      const known = budgetServicePatternSchema.safeParse(pattern);
      if (!known.success) {
        throw BudgetException.validationFailed(
          [
            {
              field: 'pattern',
              message: `expected one of ${budgetServicePatternSchema.options.join(', ')}; got "${pattern}"`,
            },
          ],
          'request',
        );
      }
      const reply = await this.dispatch(known.data, payload, meta);
      if (REPLIES_CHECKED_BY_THE_CALLER.has(known.data)) return reply;
      return budgetServiceReplySchemas[known.data].parse(reply);
    } catch (error) {
      if (error instanceof BudgetException) throw error;
      this.logger.error(
        `${pattern} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      throw new BudgetException(BudgetErrorCode.Internal, `${pattern} failed: internal error`);
    }
  };

  private async dispatch(
    pattern: keyof typeof budgetServiceRequestSchemas,
    payload: unknown,
    meta: RequestMeta,
  ): Promise<unknown> {
    const ctx = { correlationId: meta.correlationId };
    switch (pattern) {
      case 'budgets.set':
        return this.setBudget.execute(
          parsePayload(budgetServiceRequestSchemas[pattern], payload),
          ctx,
        );
      case 'budgets.list':
        return this.queries.list(parsePayload(budgetServiceRequestSchemas[pattern], payload ?? {}));
      case 'budgets.get':
        return this.queries.get(parsePayload(budgetServiceRequestSchemas[pattern], payload));
      case 'budgets.remove':
        return this.removeBudget.execute(
          parsePayload(budgetServiceRequestSchemas[pattern], payload),
        );
      case 'budgets.check':
        return this.check.execute(parsePayload(budgetServiceRequestSchemas[pattern], payload));
      case 'budgets.reserve':
        return this.reserve.execute(
          parsePayload(budgetServiceRequestSchemas[pattern], payload),
          ctx,
        );
      case 'budgets.release':
        return this.release.execute(parsePayload(budgetServiceRequestSchemas[pattern], payload));
      case 'usage.summary':
        return this.usageSummary.execute(
          parsePayload(budgetServiceRequestSchemas[pattern], payload ?? {}),
        );
    }
  }
}
