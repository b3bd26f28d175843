import { Logger } from '@nestjs/common';
import { type BudgetUnitOfWork } from '@stratavore/budget-service-data-access';
import {
  type Budget,
  budgetFigures,
  type BudgetPeriodState,
  scopeKey,
  ZERO_AMOUNTS,
} from '@stratavore/budget-service-domain';
import { type Clock } from '@stratavore/core';
import { type Gauge } from 'prom-client';

/** One budget's value of `stratavore_budget_used_ratio`. */
export interface UsedRatioSample {
  readonly budgetId: string;
  /** The budget's scope key (`global`, `project:<uuid>`). */
  readonly scope: string;
  readonly ratio: number;
}

/** Where `stratavore_budget_used_ratio` reads the budgets from when Prometheus scrapes. */
export interface UsedRatioSource {
  /** Every budget's sample as stored now; rejects when the store cannot be read. */
  usedRatios(): Promise<readonly UsedRatioSample[]>;
}

/** How long a scrape waits for a source before reporting its last samples instead. */
const READ_DEADLINE_MS = 2_000;

/**
 * `stratavore_budget_used_ratio`, computed when Prometheus collects it from what the store holds,
 * so a replica that did not book the usage, or one just restarted, reports the same values as
 * the one that did, and a removed budget disappears. The gauge is process-wide (one registry),
 * so this is too: each running budget-service module tracks its store while it runs. A source
 * that fails or does not answer in time keeps its last samples (logged), so `/metrics` still
 * answers while the database is down.
 */
export class UsedRatioGauge {
  private readonly logger = new Logger('BudgetUsedRatio');
  private readonly lastSamples = new Map<UsedRatioSource, readonly UsedRatioSample[]>();

  constructor(private readonly deadlineMs = READ_DEADLINE_MS) {}

  /** Reads `source` at every scrape until the returned function is called. */
  track(source: UsedRatioSource): () => void {
    this.lastSamples.set(source, []);
    return () => {
      this.lastSamples.delete(source);
    };
  }

  /** The gauge's `collect`: replaces all of its values with what the sources read now. */
  async collect(gauge: Gauge<'budget_id' | 'scope'>): Promise<void> {
    const read = await Promise.all(
      [...this.lastSamples].map(([source, last]) => this.read(source, last)),
    );
    gauge.reset();
    for (const { budgetId, scope, ratio } of read.flat()) {
      gauge.set({ budget_id: budgetId, scope }, ratio);
    }
  }

  private async read(
    source: UsedRatioSource,
    last: readonly UsedRatioSample[],
  ): Promise<readonly UsedRatioSample[]> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.deadlineMs} ms`)),
        this.deadlineMs,
      );
    });
    try {
      const samples = await Promise.race([source.usedRatios(), deadline]);
      if (this.lastSamples.has(source)) this.lastSamples.set(source, samples);
      return samples;
    } catch (error) {
      this.logger.warn(`budget used ratios not read, reporting the last ones: ${String(error)}`);
      return last;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The budget's used ratio at `now` (used / (limit + carry-over), the larger of its limited
 * dimensions). A period past its end that the roller has not closed yet counts as the period
 * after it, in which nothing is used yet.
 */
export function currentUsedRatio(budget: Budget, period: BudgetPeriodState, now: Date): number {
  const due = period.end !== null && period.end.getTime() <= now.getTime();
  return due ? 0 : budgetFigures(budget, period, ZERO_AMOUNTS).ratio;
}

/** Every budget's used ratio in its open period, read from `store` in one query. */
export function storeUsedRatios(store: BudgetUnitOfWork, clock: Clock): UsedRatioSource {
  return {
    usedRatios: async () => {
      const budgets = await store.read((reads) => reads.budgetsWithOpenPeriods());
      const now = clock.now();
      return budgets.flatMap(({ budget, period }): UsedRatioSample[] => {
        // Every budget has an open period; one without (the book recreates it) has no ratio yet.
        if (period === null) return [];
        return [
          {
            budgetId: budget.id,
            scope: scopeKey(budget.scope),
            ratio: currentUsedRatio(budget, period, now),
          },
        ];
      });
    },
  };
}
