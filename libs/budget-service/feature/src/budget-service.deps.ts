import { type BudgetUnitOfWork } from '@stratavore/budget-service-data-access';
import { type Clock, type IdGenerator } from '@stratavore/core';

import { type BudgetServiceMetrics } from './budget-service.metrics';

/** The bus service, event source, consumer (queue and inbox) name of budget-service. */
export const BUDGET_SERVICE_NAME = 'budget-service';

/** Who asked, for the events' correlation id. */
export interface RequestContext {
  readonly correlationId: string;
}

/** Everything the use cases share. */
export interface BudgetServiceDeps {
  readonly store: BudgetUnitOfWork;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** HMAC key of event envelopes. */
  readonly signingKey: string;
  readonly metrics: BudgetServiceMetrics;
}
