import { randomUUID } from 'node:crypto';

import { type Budget, type BudgetPeriodState, ZERO_USAGE } from '@stratavore/budget-service-domain';
import { type BudgetScope } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { BudgetStore } from './budget-store';
import { dailyBudget } from './budget-store.int-test-support';

const now = new Date('2026-11-24T12:00:00.000Z');

const budgetOf = (scope: BudgetScope, limitTokens: number) =>
  dailyBudget(scope, limitTokens, { at: now, rollover: true });

function periodOf(budget: Budget, day: string, input: number): BudgetPeriodState {
  const start = new Date(`${day}T00:00:00.000Z`);
  return {
    id: randomUUID(),
    budgetId: budget.id,
    start,
    end: new Date(start.getTime() + 86_400_000),
    limits: budget.limits,
    carryOver: { tokens: 0, usdMicros: 0 },
    used: { ...ZERO_USAGE, input },
  };
}

/**
 * `BudgetReads.budgetsWithOpenPeriods`, what `stratavore_budget_used_ratio` reads at each scrape:
 * every budget with its open period in one query, closed periods left out, a budget without an
 * open period kept (with `null`), ordered by scope key.
 */
describe('budgets with their open periods on PostgreSQL', () => {
  let db: TestDatabase;
  let store: BudgetStore;

  beforeAll(async () => {
    db = await createTestDatabase('budget_open_periods');
    store = await BudgetStore.open(db.url, { poolSize: 2 });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('reads nothing when there is no budget', async () => {
    await expect(store.read((reads) => reads.budgetsWithOpenPeriods())).resolves.toEqual([]);
  });

  it('reads every budget with its open period, not its closed ones, ordered by scope key', async () => {
    const global = budgetOf({ kind: 'global' }, 1_000_000);
    const project = budgetOf(
      { kind: 'project', projectId: '00000000-0000-4000-8000-000000000001' },
      1_000,
    );
    const bare = budgetOf(
      { kind: 'project', projectId: '00000000-0000-4000-8000-000000000002' },
      2_000,
    );
    const closed = periodOf(project, '2026-11-23', 900);
    const open = {
      ...periodOf(project, '2026-11-24', 300),
      carryOver: { tokens: 100, usdMicros: 0 },
    };
    const globalOpen = { ...periodOf(global, '2026-11-24', 600), end: null };
    // Inserted in another order than their scope keys'.
    await store.transaction(async (tx) => {
      await tx.insertBudget(bare);
      await tx.insertBudget(project);
      await tx.insertPeriod(closed, { rebaselined: false });
      await tx.closePeriod(closed.id, null, now);
      await tx.insertPeriod(open, { rebaselined: false });
      await tx.insertBudget(global);
      await tx.insertPeriod(globalOpen, { rebaselined: false });
    });

    const expected = [
      { budget: global, period: globalOpen },
      { budget: project, period: open },
      { budget: bare, period: null },
    ];
    await expect(store.read((reads) => reads.budgetsWithOpenPeriods())).resolves.toEqual(expected);
    await expect(store.transaction((tx) => tx.budgetsWithOpenPeriods())).resolves.toEqual(expected);
  });
});
