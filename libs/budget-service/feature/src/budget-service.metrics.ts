import { counter, gauge, histogram } from '@stratavore/observability';

import { UsedRatioGauge } from './used-ratio-gauge';

/**
 * What `stratavore_budget_used_ratio` reads at scrape time. One per process, like the gauge:
 * the gauge and its `collect` are those of the first {@link budgetServiceMetrics} call, and every
 * module instance after it tracks its store here.
 */
const usedRatios = new UsedRatioGauge();

/** budget-service's Prometheus metrics (registered once per process). */
export function budgetServiceMetrics() {
  gauge<'budget_id' | 'scope'>({
    name: 'stratavore_budget_used_ratio',
    help: 'Used / (limit + carry-over) of each budget in its current period (1 = exceeded), read from the database at each scrape.',
    labelNames: ['budget_id', 'scope'],
    collect() {
      return usedRatios.collect(this);
    },
  });
  return {
    /** Track a store while it runs; the gauge reads it when scraped. */
    usedRatio: usedRatios,
    reservations: counter<'outcome'>({
      name: 'stratavore_budget_reservations_total',
      help: 'Reservation requests, by outcome (granted, refused, repeated).',
      labelNames: ['outcome'],
    }),
    refusals: counter<'scope_kind' | 'dimension'>({
      name: 'stratavore_budget_refusals_total',
      help: 'Budgets that refused a reservation, by scope kind and dimension.',
      labelNames: ['scope_kind', 'dimension'],
    }),
    reserveDuration: histogram({
      name: 'stratavore_budget_reserve_duration_seconds',
      help: 'Duration of one budgets.reserve transaction.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    }),
    reservationsReleased: counter<'reason'>({
      name: 'stratavore_budget_reservations_released_total',
      help: 'Reservation rows that stopped holding budget, by reason (released, runner_ended, expired).',
      labelNames: ['reason'],
    }),
    usageEvents: counter<'outcome'>({
      name: 'stratavore_budget_usage_events_total',
      help: 'usage.reported events, by outcome (booked, duplicate).',
      labelNames: ['outcome'],
    }),
    thresholdEvents: counter<'kind'>({
      name: 'stratavore_budget_threshold_events_total',
      help: 'budget.warning, budget.exceeded and budget.overrun events emitted (kind warning, exceeded, overrun).',
      labelNames: ['kind'],
    }),
    periodsRolled: counter({
      name: 'stratavore_budget_periods_rolled_total',
      help: 'Budget periods closed because their end came (not re-baselines).',
    }),
  };
}

export type BudgetServiceMetrics = ReturnType<typeof budgetServiceMetrics>;
