import { type BudgetReads, type BudgetUnitOfWork } from '@stratavore/budget-service-data-access';
import { ManualClock } from '@stratavore/core';

import { type BudgetBook } from './budget-book';
import { budgetServiceMetrics } from './budget-service.metrics';
import { PeriodRoller } from './period-roller';

/** A store that fails on anything but the reads a test allows. */
function strictStore(reads: Partial<BudgetReads>): BudgetUnitOfWork {
  const unexpected = (what: string) => () => {
    throw new Error(`unexpected ${what}`);
  };
  return {
    read: (work) =>
      work(
        new Proxy(reads as BudgetReads, {
          get: (target, name: string) =>
            (target as unknown as Record<string, unknown>)[name] ?? unexpected(`read ${name}`),
        }),
      ),
    transaction: unexpected('transaction'),
  };
}

function roller(leader: boolean, reads: Partial<BudgetReads>, clock = new ManualClock()) {
  return new PeriodRoller({
    store: strictStore(reads),
    clock,
    book: {} as BudgetBook,
    leadership: { isLeader: () => leader },
    metrics: budgetServiceMetrics(),
  });
}

describe('PeriodRoller', () => {
  it('does nothing, and touches nothing, while another replica leads', async () => {
    await expect(roller(false, {}).tick()).resolves.toEqual({ rolled: 0, expired: 0 });
    await expect(roller(false, {}).delayBeforeNextTick(5_000)).resolves.toBe(5_000);
  });

  it('wakes exactly when the earliest period ends, at most after the check interval', async () => {
    const clock = new ManualClock('2026-01-01T23:59:57.000Z');
    const next = (at: string | null) =>
      roller(
        true,
        { nextPeriodEnd: () => Promise.resolve(at === null ? null : new Date(at)) },
        clock,
      );
    await expect(next('2026-01-02T00:00:00.000Z').delayBeforeNextTick(5_000)).resolves.toBe(3_000);
    await expect(next('2026-01-02T00:00:00.000Z').delayBeforeNextTick(1_000)).resolves.toBe(1_000);
    await expect(next('2026-01-01T23:00:00.000Z').delayBeforeNextTick(5_000)).resolves.toBe(0);
    await expect(next(null).delayBeforeNextTick(5_000)).resolves.toBe(5_000);
  });
});
