import { type BudgetUnitOfWork } from '@stratavore/budget-service-data-access';
import { type Clock } from '@stratavore/core';

import { type BudgetBook } from './budget-book';
import { type BudgetServiceMetrics } from './budget-service.metrics';

/** "Am I the one replica that acts?" (`AdvisoryLeadership` from `@stratavore/persistence`). */
export interface Leadership {
  isLeader(): boolean;
}

export interface PeriodRollerDeps {
  readonly store: BudgetUnitOfWork;
  readonly clock: Clock;
  readonly book: BudgetBook;
  readonly leadership: Leadership;
  readonly metrics: BudgetServiceMetrics;
  /** Rows per transaction when rolling and expiring (default 100). */
  readonly batchSize?: number;
}

export interface TickResult {
  readonly rolled: number;
  readonly expired: number;
}

/**
 * Rolls budget periods over when their end comes, whether or not anything else happens, and
 * marks lapsed reservations expired. Only the leader acts (one replica at a time); each budget
 * rolls in its own transaction under its row lock, so a reservation or a usage booking that
 * holds the lock waits for the new period, or rolled it first itself.
 */
export class PeriodRoller {
  private readonly batchSize: number;

  constructor(private readonly deps: PeriodRollerDeps) {
    this.batchSize = deps.batchSize ?? 100;
  }

  async tick(): Promise<TickResult> {
    if (!this.deps.leadership.isLeader()) return { rolled: 0, expired: 0 };
    const now = this.deps.clock.now();
    let rolled = 0;
    for (;;) {
      const due = await this.deps.store.read((reads) => reads.duePeriods(now, this.batchSize));
      for (const { budgetId } of due) {
        await this.deps.store.transaction(async (tx) => {
          const budget = await tx.lockBudgetById(budgetId);
          if (!budget) return;
          rolled += (await this.deps.book.currentPeriod(tx, budget, now)).rolled;
        });
      }
      if (due.length < this.batchSize) break;
    }
    let expired = 0;
    for (;;) {
      const rows = await this.deps.store.transaction((tx) =>
        tx.expireReservations(now, this.batchSize),
      );
      expired += rows.length;
      if (rows.length < this.batchSize) break;
    }
    if (expired > 0) this.deps.metrics.reservationsReleased.inc({ reason: 'expired' }, expired);
    return { rolled, expired };
  }

  /**
   * How long to sleep before the next tick: until the earliest open period ends (so periods
   * roll on time), at most `maxMs` (budgets set meanwhile, leadership changes, expiries).
   */
  async delayBeforeNextTick(maxMs: number): Promise<number> {
    if (!this.deps.leadership.isLeader()) return maxMs;
    const next = await this.deps.store.read((reads) => reads.nextPeriodEnd());
    if (next === null) return maxMs;
    return Math.min(maxMs, Math.max(0, next.getTime() - this.deps.clock.now().getTime()));
  }
}
