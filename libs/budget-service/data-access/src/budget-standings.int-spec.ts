import { randomUUID } from 'node:crypto';

import { type Budget, ZERO_USAGE } from '@stratavore/budget-service-domain';
import { type BudgetScope } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { BudgetStore } from './budget-store';
import { dailyBudget } from './budget-store.int-test-support';
import { type BudgetStanding } from './budget-store.types';

const now = new Date('2026-11-24T12:00:00.000Z');

const budgetOf = (scope: BudgetScope, limitTokens: number) =>
  dailyBudget(scope, limitTokens, { at: now, rollover: false });

/**
 * The standings read (`BudgetReads.standings`, the one query of every budget check) runs as a
 * prepared statement with one parameter per scope key: the same rows outside a transaction (a
 * connection of the pool) and inside one (the transaction's connection), for any number of keys,
 * executed more often than PostgreSQL's five custom plans before it settles on a generic one.
 */
describe('budget standings on PostgreSQL', () => {
  let db: TestDatabase;
  let store: BudgetStore;
  const projectId = randomUUID();
  const global = budgetOf({ kind: 'global' }, 1_000_000);
  const project = budgetOf({ kind: 'project', projectId }, 1_000);
  let projectPeriodId = '';

  beforeAll(async () => {
    db = await createTestDatabase('budget_standings');
    store = await BudgetStore.open(db.url, { poolSize: 2 });
    await store.transaction(async (tx) => {
      for (const budget of [global, project]) {
        await tx.insertBudget(budget);
        const period = {
          id: randomUUID(),
          budgetId: budget.id,
          start: new Date('2026-11-24T00:00:00.000Z'),
          end: new Date('2026-11-25T00:00:00.000Z'),
          limits: budget.limits,
          carryOver: { tokens: 0, usdMicros: 0 },
          used: { ...ZERO_USAGE, input: 600 },
        };
        await tx.insertPeriod(period, { rebaselined: false });
        if (budget === project) projectPeriodId = period.id;
      }
      const reservation = (budget: Budget, expiresAt: Date) => ({
        reservationId: randomUUID(),
        budgetId: budget.id,
        runnerId: randomUUID(),
        projectId,
        estimate: { tokens: 300, usdMicros: 0 },
        remaining: { tokens: 300, usdMicros: 0 },
        ttlMs: 3_600_000,
        createdAt: now,
        expiresAt,
        releasedAt: null,
        releaseReason: null,
      });
      await tx.insertReservations([
        reservation(project, new Date('2026-11-24T13:00:00.000Z')),
        // Expired: holds nothing at `now`.
        reservation(project, new Date('2026-11-24T11:00:00.000Z')),
      ]);
      await tx.recordFiring(project.id, projectPeriodId, 0.5, randomUUID(), now);
    });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const keys = ['global', `project:${projectId}`];
  const summary = (standings: BudgetStanding[]) =>
    standings.map((s) => ({
      budgetId: s.budget.id,
      periodId: s.period?.id,
      used: s.period?.used.input,
      reserved: s.reserved,
      fired: s.fired,
    }));

  it('reads each budget with its open period, what holds it and the thresholds fired', async () => {
    const expected = [
      {
        budgetId: global.id,
        periodId: expect.any(String) as string,
        used: 600,
        reserved: { tokens: 0, usdMicros: 0 },
        fired: [],
      },
      {
        budgetId: project.id,
        periodId: projectPeriodId,
        used: 600,
        reserved: { tokens: 300, usdMicros: 0 },
        fired: [0.5],
      },
    ];
    for (let i = 0; i < 8; i++) {
      expect(summary(await store.read((reads) => reads.standings(keys, now)))).toEqual(expected);
      expect(summary(await store.transaction((tx) => tx.standings(keys, now)))).toEqual(expected);
    }
    const [standing] = await store.read((reads) => reads.standings(keys, now));
    expect(standing?.budget).toEqual(global);
  });

  it("reads on the transaction's connection inside one (its own uncommitted writes)", async () => {
    class Rollback extends Error {}
    const inside = store.transaction(async (tx) => {
      await tx.recordFiring(project.id, projectPeriodId, 0.8, randomUUID(), now);
      const [, standing] = await tx.standings(keys, now);
      expect(standing?.fired).toEqual([0.5, 0.8]);
      throw new Rollback();
    });
    await expect(inside).rejects.toBeInstanceOf(Rollback);
    const [, standing] = await store.read((reads) => reads.standings(keys, now));
    expect(standing?.fired).toEqual([0.5]);
  });

  it('takes any number of scope keys, unknown ones matching nothing', async () => {
    const one = await store.read((reads) => reads.standings([`project:${projectId}`], now));
    expect(one.map((s) => s.budget.id)).toEqual([project.id]);
    const three = await store.read((reads) =>
      reads.standings([...keys, `project:${randomUUID()}`], now),
    );
    expect(three.map((s) => s.budget.id)).toEqual([global.id, project.id]);
    expect(await store.read((reads) => reads.standings([], now))).toEqual([]);
  });
});
