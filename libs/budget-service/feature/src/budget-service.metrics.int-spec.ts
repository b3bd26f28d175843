import { randomUUID } from 'node:crypto';

import {
  BUDGET_SERVICE,
  type RemoveBudgetReply,
  type ReserveBudgetReply,
  type SetBudgetReply,
} from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';
import { InProcessBus } from '@stratavore/messaging';
import { metricsRegistry } from '@stratavore/observability';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { BudgetEventsConsumer } from './budget-events.consumer';
import {
  migrateMessaging,
  startBudgetServiceModule,
  TEST_SIGNING_KEY,
  usageEvent,
  type UsageInput,
} from './budget-service.int-test-support';

/** One budget-service process (a Nest application with its own bus) on the test database. */
interface Replica {
  request<T>(pattern: string, payload: unknown): Promise<T>;
  book(usage: UsageInput): Promise<void>;
  close(): Promise<void>;
}

/** The values of a metric as `/metrics` would serve them now, keyed by their sorted labels. */
async function metricValues(name: string): Promise<Record<string, number>> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(
    values.map((v) => [
      Object.entries(v.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, value]) => `${label}=${String(value)}`)
        .join(','),
      v.value,
    ]),
  );
}

const usedRatios = () => metricValues('stratavore_budget_used_ratio');
const ratioKey = (budgetId: string, projectId: string) =>
  `budget_id=${budgetId},scope=project:${projectId}`;

/** How much each labelled value of a counter grew from `before`. */
function growth(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([labels, value]) => [labels, value - (before[labels] ?? 0)] as const)
      .filter(([, grown]) => grown !== 0),
  );
}

describe('budget-service metrics on PostgreSQL', () => {
  let db: TestDatabase;
  const clock = new ManualClock('2026-09-01T10:00:00.000Z');
  const running = new Set<Replica>();

  beforeAll(async () => {
    db = await createTestDatabase('budget_metrics');
    await migrateMessaging(db.url);
  });

  afterAll(async () => {
    await Promise.all([...running].map((replica) => replica.close()));
    await db?.drop();
  });

  async function startReplica(): Promise<Replica> {
    const bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY });
    await bus.connect();
    const app = await startBudgetServiceModule(
      { bus, clock },
      { databaseUrl: db.url, signingKey: TEST_SIGNING_KEY, poolSize: 2, rollerTimer: false },
    );
    const consumer = app.get(BudgetEventsConsumer);
    const replica: Replica = {
      request: (pattern, payload) =>
        bus.request(BUDGET_SERVICE, pattern, payload, { correlationId: 'metrics-test' }),
      async book(usage) {
        const envelope = usageEvent(usage);
        const result = await consumer.handle({ envelope, routingKey: envelope.type, attempt: 1 });
        if (result !== 'ack') throw new Error(`usage not booked: ${result}`);
      },
      async close() {
        running.delete(replica);
        await app.close();
        await bus.close();
      },
    };
    running.add(replica);
    return replica;
  }

  it('reads stratavore_budget_used_ratio from the database at each scrape, in any replica', async () => {
    const first = await startReplica();
    const projectId = randomUUID();
    const otherProjectId = randomUUID();
    const { budget } = await first.request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId },
      limitTokens: 400,
      limitUsd: 2,
      period: 'daily',
    });
    const { budget: other } = await first.request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId: otherProjectId },
      limitTokens: 1000,
      period: 'none',
    });
    const mine = ratioKey(budget.id, projectId);
    const others = ratioKey(other.id, otherProjectId);
    expect(await usedRatios()).toMatchObject({ [mine]: 0, [others]: 0 });

    // 150 of 400 tokens and $0.25 of $2: the tokens are the larger share.
    await first.book({
      projectId,
      input: 100,
      output: 50,
      costUsd: 0.25,
      observedAt: clock.now().toISOString(),
    });
    expect(await usedRatios()).toMatchObject({ [mine]: 0.375, [others]: 0 });

    // No process runs budget-service: nothing is reported, not even what the first one knew.
    await first.close();
    expect(await usedRatios()).toEqual({});

    // A restart: the new instance has booked nothing and reports what the database holds.
    const restarted = await startReplica();
    expect(await usedRatios()).toMatchObject({ [mine]: 0.375, [others]: 0 });

    // Another replica books usage; once it is gone the restarted one reports that usage too.
    const replica = await startReplica();
    await replica.book({ projectId, input: 50, observedAt: clock.now().toISOString() });
    await replica.close();
    expect(await usedRatios()).toMatchObject({ [mine]: 0.5, [others]: 0 });

    const { removed } = await restarted.request<RemoveBudgetReply>('budgets.remove', {
      budgetId: budget.id,
    });
    expect(removed.id).toBe(budget.id);
    const after = await usedRatios();
    expect(after).not.toHaveProperty([mine]);
    expect(after).toMatchObject({ [others]: 0 });
    await restarted.close();
  });

  it('counts reservations by outcome and refusals by scope kind and dimension', async () => {
    const replica = await startReplica();
    const projectId = randomUUID();
    await replica.request('budgets.set', {
      scope: { kind: 'global' },
      limitUsd: 1,
      period: 'none',
    });
    await replica.request('budgets.set', {
      scope: { kind: 'project', projectId },
      limitTokens: 100,
      period: 'none',
    });
    const runnerId = randomUUID();
    const reserve = (reservationId: string, estimate: { tokens?: number; usd?: number }) =>
      replica.request<ReserveBudgetReply>('budgets.reserve', {
        reservationId,
        runnerId,
        projectId,
        estimate,
      });
    const reservationsBefore = await metricValues('stratavore_budget_reservations_total');
    const refusalsBefore = await metricValues('stratavore_budget_refusals_total');

    const grantedId = randomUUID();
    await expect(reserve(grantedId, { tokens: 60, usd: 0.5 })).resolves.toMatchObject({
      status: 'granted',
    });
    await expect(reserve(grantedId, { tokens: 60, usd: 0.5 })).resolves.toMatchObject({
      status: 'granted',
    });
    // 40 tokens left in the project.
    await expect(reserve(randomUUID(), { tokens: 60 })).resolves.toMatchObject({
      status: 'refused',
      refusals: [{ scope: { kind: 'project' }, dimension: 'tokens' }],
    });
    // And $0.50 left globally: both budgets refuse this one.
    await expect(reserve(randomUUID(), { tokens: 50, usd: 0.75 })).resolves.toMatchObject({
      status: 'refused',
      refusals: [
        { scope: { kind: 'global' }, dimension: 'usd' },
        { scope: { kind: 'project' }, dimension: 'tokens' },
      ],
    });

    expect(
      growth(reservationsBefore, await metricValues('stratavore_budget_reservations_total')),
    ).toEqual({ 'outcome=granted': 1, 'outcome=repeated': 1, 'outcome=refused': 2 });
    expect(growth(refusalsBefore, await metricValues('stratavore_budget_refusals_total'))).toEqual({
      'dimension=tokens,scope_kind=project': 2,
      'dimension=usd,scope_kind=global': 1,
    });
    await replica.close();
  });
});
