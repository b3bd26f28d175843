import { randomUUID } from 'node:crypto';

import { type TestingModule } from '@nestjs/testing';
import { budgetDataSource, type BudgetStore } from '@stratavore/budget-service-data-access';
import {
  BUDGET_SERVICE,
  BudgetErrorCode,
  type BudgetListReply,
  type BudgetView,
  type CheckBudgetReply,
  type EventEnvelope,
  type RemoveBudgetReply,
  type ReserveBudgetReply,
  type SetBudgetReply,
  type UsageSummaryReply,
} from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';
import { InProcessBus, type MessageBus } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

import {
  migrateMessaging,
  outboxEvents,
  runnerEndedEvent,
  startBudgetServiceModule,
  TEST_SIGNING_KEY,
  usageEvent,
} from './budget-service.int-test-support';
import { BUDGET_STORE } from './budget-service.module';

async function publish(bus: MessageBus, envelopes: readonly EventEnvelope[]): Promise<void> {
  const outcomes = await bus.publishBatch(
    envelopes.map((e) => ({
      routingKey: e.type,
      messageId: e.id,
      body: Buffer.from(JSON.stringify(e)),
    })),
  );
  if (outcomes.some((o) => !o.ok)) throw new Error(`publish failed: ${JSON.stringify(outcomes)}`);
}

describe('BudgetServiceModule over the in-process bus', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  let sql: ReturnType<typeof budgetDataSource>;
  const clock = new ManualClock('2026-09-01T10:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase('budget_module');
    await migrateMessaging(db.url);
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      retryBackoff: { baseMs: 5, maxMs: 20 },
    });
    await bus.connect();
    app = await startBudgetServiceModule(
      { bus, clock },
      {
        databaseUrl: db.url,
        signingKey: TEST_SIGNING_KEY,
        poolSize: 4,
        rollCheckIntervalMs: 100,
        leadershipIntervalMs: 100,
      },
    );
    sql = budgetDataSource(db.url, { poolSize: 2 });
    await sql.initialize();
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await sql?.destroy();
    await db?.drop();
  });

  const request = <T>(pattern: string, payload: unknown) =>
    bus.request<T>(BUDGET_SERVICE, pattern, payload, { correlationId: 'module-test' });

  it('serves every request pattern', async () => {
    const projectId = randomUUID();
    const created = await request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId },
      limitTokens: 1000,
      limitUsd: 2.5,
      period: 'weekly',
      timeZone: 'Europe/Berlin',
      warnThresholds: [0.9],
      rollover: { enabled: true, capTokens: 100 },
    });
    expect(created).toMatchObject({
      created: true,
      budget: {
        limits: { tokens: 1000, usd: 2.5 },
        periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
        // Monday 2026-09-07 00:00 in Berlin (CEST).
        periodEnd: '2026-09-06T22:00:00.000Z',
        rollover: { enabled: true, capTokens: 100, capUsd: null },
        status: 'ok',
      },
    });
    const list = await request<BudgetListReply>('budgets.list', { projectId });
    expect(list.budgets.map((b) => b.id)).toContain(created.budget.id);
    const byId = await request<BudgetView>('budgets.get', { budgetId: created.budget.id });
    expect(byId.scope).toEqual({ kind: 'project', projectId });

    const check = await request<CheckBudgetReply>('budgets.check', {
      projectId,
      estimate: { usd: 3 },
    });
    expect(check).toMatchObject({ allowed: false, refusals: [{ dimension: 'usd', left: 2.5 }] });

    const reservationId = randomUUID();
    const runnerId = randomUUID();
    const granted = await request<ReserveBudgetReply>('budgets.reserve', {
      reservationId,
      runnerId,
      projectId,
      estimate: { tokens: 100, usd: 1 },
    });
    expect(granted).toMatchObject({ status: 'granted', leftTokens: 1000, leftUsd: 2.5 });
    await expect(request('budgets.release', { runnerId })).resolves.toEqual({ released: 1 });

    const summary = await request<UsageSummaryReply>('usage.summary', {});
    expect(summary).toMatchObject({ timeZone: 'UTC', days: [], totals: { events: 0 } });

    const removed = await request<RemoveBudgetReply>('budgets.remove', {
      scope: { kind: 'project', projectId },
    });
    expect(removed.removed.id).toBe(created.budget.id);
    await expect(request('budgets.get', { budgetId: created.budget.id })).rejects.toMatchObject({
      code: BudgetErrorCode.BudgetNotFound,
    });
  });

  it('answers bad payloads with ValidationFailed naming the fields', async () => {
    await expect(
      request('budgets.set', { scope: { kind: 'project', projectId: 'x' }, period: 'daily' }),
    ).rejects.toMatchObject({
      code: BudgetErrorCode.ValidationFailed,
      details: { issues: [{ field: 'scope.projectId' }, { field: 'limitTokens' }] },
    });
    await expect(request('budgets.reserve', { projectId: randomUUID() })).rejects.toMatchObject({
      code: BudgetErrorCode.ValidationFailed,
      details: {
        issues: expect.arrayContaining([
          expect.objectContaining({ field: 'reservationId' }),
          expect.objectContaining({ field: 'runnerId' }),
        ]) as unknown,
      },
    });
    await expect(request('budgets.nope', {})).rejects.toMatchObject({
      code: BudgetErrorCode.ValidationFailed,
      details: { issues: [{ field: 'pattern' }] },
    });
  });

  it('books usage from the bus, emits budget.exceeded for runner-manager, releases ended runners', async () => {
    const projectId = randomUUID();
    const { budget } = await request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId },
      limitTokens: 100,
      period: 'none',
    });
    const runnerId = randomUUID();
    await request('budgets.reserve', {
      reservationId: randomUUID(),
      runnerId,
      projectId,
      estimate: { tokens: 50 },
    });
    await publish(bus, [
      usageEvent({
        projectId,
        runnerId,
        input: 60,
        output: 50,
        observedAt: clock.now().toISOString(),
      }),
    ]);
    const exceeded = await waitFor(
      async () => (await outboxEvents(sql, 'budget.exceeded')).find((e) => e.subject === budget.id),
      { description: 'budget.exceeded in the outbox' },
    );
    expect(exceeded.data).toMatchObject({
      scope: { kind: 'project', projectId },
      projectId,
      enforcement: 'hard',
      period: 'none',
      periodEnd: null,
      usedTokens: 110,
      reservedTokens: 0,
    });
    const view = await request<BudgetView>('budgets.get', { budgetId: budget.id });
    expect(view).toMatchObject({ status: 'exceeded', left: { tokens: 0 } });

    const other = randomUUID();
    await request('budgets.set', {
      scope: { kind: 'project', projectId: other },
      limitTokens: 100,
      period: 'none',
    });
    await request('budgets.reserve', {
      reservationId: randomUUID(),
      runnerId,
      projectId: other,
      estimate: { tokens: 30 },
    });
    await publish(bus, [runnerEndedEvent('runner.stopped', runnerId, other)]);
    await waitFor(
      async () =>
        (await request<BudgetView>('budgets.get', { scope: { kind: 'project', projectId: other } }))
          .reserved.tokens === 0,
      { description: 'the stopped runner to release its reservation' },
    );
  });

  it('rolls a period over on time with no request, while this replica leads', async () => {
    const projectId = randomUUID();
    const { budget } = await request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId },
      limitTokens: 100,
      period: 'daily',
    });
    const store = app.get<BudgetStore>(BUDGET_STORE);
    clock.set(budget.periodEnd ?? '');
    const rolled = await waitFor(
      async () => {
        const periods = await store.read((reads) => reads.openPeriods([budget.id]));
        const open = periods.get(budget.id);
        return open && open.start.toISOString() === budget.periodEnd ? open : null;
      },
      { description: 'the roller to open the next day', timeoutMs: 10_000 },
    );
    expect(rolled.end?.toISOString()).toBe('2026-09-03T00:00:00.000Z');
  });
});
