import { randomUUID } from 'node:crypto';

import { budgetDataSource } from '@stratavore/budget-service-data-access';
import {
  type BudgetView,
  type CheckBudgetReply,
  checkBudgetReplySchema,
  type EventEnvelope,
  type ReleaseBudgetReply,
  type ReserveBudgetReply,
  type SetBudgetReply,
  type SetBudgetRequestInput,
  stratavoreEvents,
  type UsageSummaryReply,
} from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import {
  type BudgetHarness,
  deliver,
  migrateMessaging,
  openHarness,
  outboxEvents,
  runnerEndedEvent,
  setRequest,
  usageEvent,
  type UsageInput,
} from './budget-service.int-test-support';

type Sql = ReturnType<typeof budgetDataSource>;

describe('budget rules on PostgreSQL (injected clock)', () => {
  let db: TestDatabase;
  let h: BudgetHarness;
  let sql: Sql;

  beforeAll(async () => {
    db = await createTestDatabase('budget_rules');
    await migrateMessaging(db.url);
    h = await openHarness(db.url, '2026-03-01T00:00:00.000Z');
    sql = budgetDataSource(db.url, { poolSize: 2 });
    await sql.initialize();
  });

  afterAll(async () => {
    await sql?.destroy();
    await h?.close();
    await db?.drop();
  });

  const meta = { correlationId: 'test' };
  const set = (request: Partial<SetBudgetRequestInput>) =>
    h.handler.handle('budgets.set', setRequest(request), meta) as Promise<SetBudgetReply>;
  const get = (projectId: string) =>
    h.handler.handle(
      'budgets.get',
      { scope: { kind: 'project', projectId } },
      meta,
    ) as Promise<BudgetView>;
  const reserve = (payload: Record<string, unknown>) =>
    h.handler.handle('budgets.reserve', payload, meta) as Promise<ReserveBudgetReply>;
  /** A launch's reservation: a new reservation for a new runner. */
  const reserveNew = (projectId: string, estimate?: { tokens?: number; usd?: number }) =>
    reserve({
      reservationId: randomUUID(),
      runnerId: randomUUID(),
      projectId,
      ...(estimate === undefined ? {} : { estimate }),
    });
  const book = (usage: UsageInput) => deliver(h, usageEvent(usage));
  /** Books spend in USD alone, by `runnerId` or else by a new runner. */
  const bookUsd = (projectId: string, costUsd: number, observedAt: string, runnerId?: string) =>
    book({ runnerId, projectId, costUsd, observedAt });
  const project = () => ({ kind: 'project' as const, projectId: randomUUID() });

  /** A new project's budget in `timeZone`, set at `at`. */
  async function zonedBudget(
    at: string,
    timeZone: string,
    request: Partial<SetBudgetRequestInput>,
  ) {
    h.clock.set(at);
    const scope = project();
    const { budget } = await set({ scope, ...request, timeZone });
    return { scope, budget };
  }

  async function periodsOf(budgetId: string) {
    return sql.query<
      Array<{
        starts_at: Date;
        ends_at: Date | null;
        used_input: string;
        carry_tokens: string;
        used_usd_micros: string;
        carry_usd_micros: string;
      }>
    >(
      `SELECT starts_at, ends_at, used_input, carry_tokens, used_usd_micros, carry_usd_micros,
              closed_at
       FROM budget.periods WHERE budget_id = $1 ORDER BY starts_at`,
      [budgetId],
    );
  }

  /** The budget's periods, oldest first, as [start, end, input tokens used]. */
  async function windowsOf(budgetId: string) {
    return (await periodsOf(budgetId)).map((r) => [
      r.starts_at.toISOString(),
      r.ends_at?.toISOString(),
      r.used_input,
    ]);
  }

  /**
   * Expects the budget's periods to be `windows` ([start, end, input tokens used], oldest first),
   * and the scope's view to be of the last one.
   */
  async function expectWindows(
    projectId: string,
    budgetId: string,
    windows: Array<[string, string, string]>,
  ) {
    const [periodStart, periodEnd, used] = windows[windows.length - 1] ?? [];
    expect(await get(projectId)).toMatchObject({
      periodStart,
      periodEnd,
      used: { tokens: Number(used) },
    });
    expect(await windowsOf(budgetId)).toEqual(windows);
  }

  async function eventsOf(budgetId: string, type: string): Promise<EventEnvelope[]> {
    return (await outboxEvents(sql, type)).filter((e) => e.subject === budgetId);
  }

  it('books spend just before the reset in the old period and just after it in the new one, rolling on time with nothing else happening', async () => {
    h.clock.set('2026-03-01T23:59:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, period: 'daily', limitTokens: 1000 });
    expect(budget).toMatchObject({
      periodStart: '2026-03-01T23:59:00.000Z',
      periodEnd: '2026-03-02T00:00:00.000Z',
    });
    await book({ projectId: scope.projectId, input: 300, observedAt: '2026-03-01T23:59:59.900Z' });
    expect((await get(scope.projectId)).used.tokens).toBe(300);

    h.clock.set('2026-03-02T00:00:00.000Z');
    expect((await h.roller.tick()).rolled).toBeGreaterThanOrEqual(1);
    // Rolled by the roller alone: the open period row is the new day before anyone asks.
    expect(await windowsOf(budget.id)).toEqual([
      ['2026-03-01T23:59:00.000Z', '2026-03-02T00:00:00.000Z', '300'],
      ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z', '0'],
    ]);

    await book({ projectId: scope.projectId, input: 200, observedAt: '2026-03-02T00:00:00.100Z' });
    // A late report observed before midnight lands in the old day, not in the new one.
    await book({ projectId: scope.projectId, input: 50, observedAt: '2026-03-01T23:59:59.950Z' });
    const view = await get(scope.projectId);
    expect(view).toMatchObject({
      periodStart: '2026-03-02T00:00:00.000Z',
      used: { tokens: 200 },
      left: { tokens: 800 },
    });
    expect((await periodsOf(budget.id)).map((r) => r.used_input)).toEqual(['350', '200']);

    h.clock.set('2026-03-02T12:00:00.000Z');

    const summary = (await h.handler.handle(
      'usage.summary',
      { projectId: scope.projectId, days: 2 },
      meta,
    )) as UsageSummaryReply;
    expect(summary.days.map((d) => [d.day, d.totalTokens])).toEqual([
      ['2026-03-01', 350],
      ['2026-03-02', 200],
    ]);
    expect(summary.totals).toMatchObject({ totalTokens: 550, events: 3 });
  });

  it('cuts days at local midnight across a DST change (Europe/Berlin)', async () => {
    const { scope, budget } = await zonedBudget('2026-03-28T12:00:00.000Z', 'Europe/Berlin', {
      period: 'daily',
      limitTokens: 1000,
    });
    expect(budget.periodEnd).toBe('2026-03-28T23:00:00.000Z');
    h.clock.set('2026-03-28T23:00:00.000Z');
    await h.roller.tick();
    await book({ projectId: scope.projectId, input: 10, observedAt: '2026-03-28T22:59:59.999Z' });
    await book({ projectId: scope.projectId, input: 20, observedAt: '2026-03-28T23:00:00.000Z' });
    // The 29th lasts 23 hours: clocks jump from 02:00 to 03:00.
    expect(await get(scope.projectId)).toMatchObject({
      periodStart: '2026-03-28T23:00:00.000Z',
      periodEnd: '2026-03-29T22:00:00.000Z',
      used: { tokens: 20 },
    });
    h.clock.set('2026-03-29T12:00:00.000Z');
    const summary = (await h.handler.handle(
      'usage.summary',
      { projectId: scope.projectId, from: '2026-03-28T00:00:00Z', timeZone: 'Europe/Berlin' },
      meta,
    )) as UsageSummaryReply;
    expect(summary.days.map((d) => [d.day, d.totalTokens])).toEqual([
      ['2026-03-28', 10],
      ['2026-03-29', 20],
    ]);
  });

  it('cuts weeks at the anchor weekday and local time in a non-UTC zone, across a DST change (America/New_York)', async () => {
    const { scope, budget } = await zonedBudget('2026-10-28T12:00:00.000Z', 'America/New_York', {
      period: 'weekly',
      limitTokens: 10_000,
      periodAnchor: { weekStartsOn: 1, timeOfDay: '09:00' },
    });
    // Monday 2 November 09:00 EST: clocks went back on Sunday, so 14:00 UTC, not 13:00.
    expect(budget).toMatchObject({
      periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '09:00' },
      periodStart: '2026-10-28T12:00:00.000Z',
      periodEnd: '2026-11-02T14:00:00.000Z',
    });
    // 09:00 EDT (still Sunday's offset) and the last millisecond before 09:00 EST.
    await book({ projectId: scope.projectId, input: 100, observedAt: '2026-11-02T13:00:00.000Z' });
    await book({ projectId: scope.projectId, input: 10, observedAt: '2026-11-02T13:59:59.999Z' });
    expect((await get(scope.projectId)).used.tokens).toBe(110);

    h.clock.set('2026-11-02T14:00:00.000Z');
    await h.roller.tick();
    await book({ projectId: scope.projectId, input: 200, observedAt: '2026-11-02T14:00:00.000Z' });
    await expectWindows(scope.projectId, budget.id, [
      ['2026-10-28T12:00:00.000Z', '2026-11-02T14:00:00.000Z', '110'],
      ['2026-11-02T14:00:00.000Z', '2026-11-09T14:00:00.000Z', '200'],
    ]);
  });

  it('cuts months at local midnight of the anchor day in a non-UTC zone (Asia/Tokyo)', async () => {
    const { scope, budget } = await zonedBudget('2026-11-20T00:00:00.000Z', 'Asia/Tokyo', {
      period: 'monthly',
      limitTokens: 10_000,
    });
    // 1 December 00:00 JST is 30 November 15:00 UTC.
    expect(budget.periodEnd).toBe('2026-11-30T15:00:00.000Z');
    await book({ projectId: scope.projectId, input: 300, observedAt: '2026-11-30T14:59:59.999Z' });

    h.clock.set('2026-11-30T15:00:00.000Z');
    await h.roller.tick();
    await book({ projectId: scope.projectId, input: 400, observedAt: '2026-11-30T15:00:00.000Z' });
    // Still 30 November in UTC, already December in Tokyo: the new month.
    h.clock.set('2026-11-30T20:00:00.000Z');
    await book({ projectId: scope.projectId, input: 50, observedAt: '2026-11-30T20:00:00.000Z' });
    await expectWindows(scope.projectId, budget.id, [
      ['2026-11-20T00:00:00.000Z', '2026-11-30T15:00:00.000Z', '300'],
      ['2026-11-30T15:00:00.000Z', '2026-12-31T15:00:00.000Z', '450'],
    ]);
  });
  it('re-baselines a budget with spend when its period changes, instead of making it over budget', async () => {
    h.clock.set('2026-03-10T12:00:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, period: 'monthly', limitTokens: 1000 });
    await book({ projectId: scope.projectId, input: 900, observedAt: '2026-03-10T12:00:01.000Z' });
    expect(await get(scope.projectId)).toMatchObject({ status: 'warning', used: { tokens: 900 } });

    h.clock.set('2026-03-10T13:00:00.000Z');
    const changed = await set({ scope, period: 'daily', limitTokens: 500 });
    expect(changed).toMatchObject({
      created: false,
      rebaselined: true,
      budget: {
        id: budget.id,
        status: 'ok',
        used: { tokens: 0 },
        periodStart: '2026-03-10T13:00:00.000Z',
        periodEnd: '2026-03-11T00:00:00.000Z',
        thresholdsFired: [],
      },
    });
    expect(await eventsOf(budget.id, 'budget.exceeded')).toEqual([]);
    // The old period keeps its spend, closed at the change.
    expect(
      (await periodsOf(budget.id)).map((r) => [r.ends_at?.toISOString(), r.used_input]),
    ).toEqual([
      ['2026-03-10T13:00:00.000Z', '900'],
      ['2026-03-11T00:00:00.000Z', '0'],
    ]);

    // Other changes keep the period and its spend.
    await book({ projectId: scope.projectId, input: 300, observedAt: '2026-03-10T13:30:00.000Z' });
    const lowered = await set({ scope, period: 'daily', limitTokens: 400 });
    expect(lowered).toMatchObject({
      rebaselined: false,
      budget: { used: { tokens: 300 }, ratio: 0.75, periodStart: '2026-03-10T13:00:00.000Z' },
    });
  });

  it('carries the unused limit into the next period up to the cap, and re-settles it after a late report', async () => {
    h.clock.set('2026-04-01T08:00:00.000Z');
    const capped = project();
    const uncapped = project();
    await set({ scope: capped, limitTokens: 1000, rollover: { enabled: true, capTokens: 300 } });
    await set({ scope: uncapped, limitTokens: 1000, rollover: { enabled: true } });
    for (const scope of [capped, uncapped]) {
      await book({
        projectId: scope.projectId,
        input: 400,
        observedAt: '2026-04-01T09:00:00.000Z',
      });
    }

    h.clock.set('2026-04-02T00:00:00.000Z');
    await h.roller.tick();
    expect(await get(capped.projectId)).toMatchObject({
      carryOver: { tokens: 300 },
      left: { tokens: 1300 },
      used: { tokens: 0 },
    });
    expect((await get(uncapped.projectId)).carryOver.tokens).toBe(600);

    await book({
      projectId: capped.projectId,
      input: 1250,
      observedAt: '2026-04-02T10:00:00.000Z',
    });
    expect((await get(capped.projectId)).ratio).toBeCloseTo(1250 / 1300);

    h.clock.set('2026-04-03T00:00:00.000Z');
    await h.roller.tick();
    expect((await get(capped.projectId)).carryOver.tokens).toBe(50);
    // A report observed yesterday but booked today: yesterday left only 10 unused.
    await book({ projectId: capped.projectId, input: 40, observedAt: '2026-04-02T23:00:00.000Z' });
    expect((await get(capped.projectId)).carryOver.tokens).toBe(10);
  });

  it('carries unused USD into the next period up to the USD cap, to the micro-dollar, and re-settles it after a late report', async () => {
    h.clock.set('2026-12-01T08:00:00.000Z');
    const capped = project();
    const uncapped = project();
    // The USD cap bounds USD only: the token limit carries without a cap.
    const { budget: cappedBudget } = await set({
      scope: capped,
      limitTokens: 1000,
      limitUsd: 10,
      rollover: { enabled: true, capUsd: 3 },
    });
    const { budget: uncappedBudget } = await set({
      scope: uncapped,
      limitTokens: undefined,
      limitUsd: 10,
      rollover: { enabled: true },
    });
    for (const scope of [capped, uncapped]) {
      await book({
        projectId: scope.projectId,
        input: 10,
        costUsd: 4.123456,
        observedAt: '2026-12-01T09:00:00.000Z',
      });
    }

    h.clock.set('2026-12-02T00:00:00.000Z');
    await h.roller.tick();
    expect(await get(capped.projectId)).toMatchObject({
      carryOver: { tokens: 990, usd: 3 },
      used: { tokens: 0, usd: 0 },
      left: { tokens: 1990, usd: 13 },
    });
    // No token limit: no tokens carried.
    expect(await get(uncapped.projectId)).toMatchObject({
      carryOver: { tokens: 0, usd: 5.876544 },
      left: { tokens: null, usd: 15.876544 },
    });
    expect((await periodsOf(cappedBudget.id)).map((r) => r.carry_usd_micros)).toEqual([
      '0',
      '3000000',
    ]);

    // Spending into what was carried over.
    await bookUsd(capped.projectId, 12.5, '2026-12-02T10:00:00.000Z');
    const spent = await get(capped.projectId);
    expect(spent).toMatchObject({ status: 'warning', left: { usd: 0.5 } });
    expect(spent.ratio).toBeCloseTo(12.5 / 13);

    h.clock.set('2026-12-03T00:00:00.000Z');
    await h.roller.tick();
    expect((await get(capped.projectId)).carryOver.usd).toBe(0.5);
    expect((await get(uncapped.projectId)).carryOver.usd).toBe(15.876544);

    // Late reports: yesterday's re-settles today's USD carry; the first day's re-settles the chain.
    await bookUsd(capped.projectId, 0.4, '2026-12-02T23:00:00.000Z');
    expect((await get(capped.projectId)).carryOver.usd).toBe(0.1);
    await bookUsd(uncapped.projectId, 1, '2026-12-01T12:00:00.000Z');
    expect((await get(uncapped.projectId)).carryOver.usd).toBe(14.876544);
    expect(
      (await periodsOf(uncappedBudget.id)).map((r) => [r.used_usd_micros, r.carry_usd_micros]),
    ).toEqual([
      ['5123456', '0'],
      ['0', '4876544'],
      ['0', '14876544'],
    ]);
  });
  it('fires each threshold exactly once per period, even for concurrent bookings', async () => {
    h.clock.set('2026-05-01T00:00:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, limitTokens: 1000 });
    const at = '2026-05-01T01:00:00.000Z';
    await book({ projectId: scope.projectId, input: 499, observedAt: at });
    expect(await eventsOf(budget.id, 'budget.warning')).toEqual([]);
    // 30 reports of 20 tokens at once: 499 -> 1099 crosses 0.5, 0.8, 0.95 and 1.
    await Promise.all(
      Array.from({ length: 30 }, () =>
        book({ projectId: scope.projectId, input: 20, observedAt: at }),
      ),
    );
    const warnings = await eventsOf(budget.id, 'budget.warning');
    expect(warnings.map((e) => (e.data as { threshold: number }).threshold).sort()).toEqual([
      0.5, 0.8, 0.95,
    ]);
    const exceeded = await eventsOf(budget.id, 'budget.exceeded');
    expect(exceeded).toHaveLength(1);
    expect(exceeded[0]).toMatchObject({
      dataversion: 2,
      data: {
        budgetId: budget.id,
        scope,
        projectId: scope.projectId,
        enforcement: 'hard',
        limitTokens: 1000,
        limitUsd: null,
        exceededOn: ['tokens'],
        periodEnd: '2026-05-02T00:00:00.000Z',
      },
    });
    await book({ projectId: scope.projectId, input: 100, observedAt: at });
    expect(await eventsOf(budget.id, 'budget.exceeded')).toHaveLength(1);
    expect(await get(scope.projectId)).toMatchObject({
      status: 'exceeded',
      thresholdsFired: [0.5, 0.8, 0.95],
    });

    // A raised limit re-arms what the spend no longer reaches; reaching it again fires again.
    const raised = await set({ scope, limitTokens: 2000 });
    expect(raised.budget).toMatchObject({ status: 'warning', thresholdsFired: [0.5] });
    await book({ projectId: scope.projectId, input: 900, observedAt: at });
    expect(await eventsOf(budget.id, 'budget.exceeded')).toHaveLength(2);

    // The next period starts with every threshold armed again.
    h.clock.set('2026-05-02T00:00:00.000Z');
    await h.roller.tick();
    await book({ projectId: scope.projectId, input: 1000, observedAt: '2026-05-02T00:00:01.000Z' });
    const nextWarnings = (await eventsOf(budget.id, 'budget.warning')).filter(
      (e) => (e.data as { periodStart: string }).periodStart === '2026-05-02T00:00:00.000Z',
    );
    expect(nextWarnings.map((e) => (e.data as { threshold: number }).threshold)).toEqual([0.5]);
  });

  it('books an event applied twice once: through the inbox, and in the ledger itself', async () => {
    h.clock.set('2026-06-01T00:00:00.000Z');
    const scope = project();
    await set({ scope, limitTokens: 1000 });
    const event = usageEvent({
      projectId: scope.projectId,
      input: 100,
      observedAt: '2026-06-01T00:01:00.000Z',
    });
    await deliver(h, event);
    await deliver(h, event);
    expect((await get(scope.projectId)).used.tokens).toBe(100);

    // Bypassing the inbox (pruned, or another consumer name): the ledger key refuses it.
    const again = await h.store.transaction((tx) =>
      h.book.bookUsage(
        tx,
        {
          eventId: event.id,
          runnerId: randomUUID(),
          projectId: scope.projectId,
          sessionId: null,
          model: null,
          usage: { input: 100, output: 0, cacheCreation: 0, cacheRead: 0, usdMicros: 0 },
          hasCost: false,
          observedAt: new Date('2026-06-01T00:01:00.000Z'),
          bookedAt: h.clock.now(),
        },
        meta,
      ),
    );
    expect(again).toBeNull();
    expect((await get(scope.projectId)).used.tokens).toBe(100);
    const [{ n }] = await sql.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM budget.ledger WHERE event_id = $1`,
      [event.id],
    );
    expect(n).toBe(1);
  });

  it('refuses with the budget, limit, used, reserved, left and period end; settles and expires reservations', async () => {
    h.clock.set('2026-07-01T10:00:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, limitTokens: 1000 });
    const r1 = { runnerId: randomUUID(), reservationId: randomUUID() };
    const granted = await reserve({
      ...r1,
      projectId: scope.projectId,
      estimate: { tokens: 600 },
      ttlMs: 60_000,
    });
    expect(granted).toMatchObject({
      status: 'granted',
      leftTokens: 1000,
      leftUsd: null,
      reservations: [{ budgetId: budget.id, tokens: 600, expiresAt: '2026-07-01T10:01:00.000Z' }],
    });
    // The same reservation id again: the same grant, nothing reserved twice.
    expect(
      await reserve({
        ...r1,
        projectId: scope.projectId,
        estimate: { tokens: 600 },
        ttlMs: 60_000,
      }),
    ).toMatchObject({ status: 'granted', leftTokens: 1000 });
    await expect(
      reserve({ ...r1, runnerId: randomUUID(), projectId: scope.projectId }),
    ).rejects.toMatchObject({ code: 'RESERVATION_CONFLICT' });

    const r2 = { runnerId: randomUUID(), reservationId: randomUUID() };
    const refused = await reserve({
      ...r2,
      projectId: scope.projectId,
      projectName: 'api',
      estimate: { tokens: 600 },
    });
    expect(refused).toEqual({
      status: 'refused',
      reservationId: r2.reservationId,
      refusals: [
        {
          budgetId: budget.id,
          scope,
          enforcement: 'hard',
          period: 'daily',
          dimension: 'tokens',
          limit: 1000,
          carryOver: 0,
          used: 0,
          reserved: 600,
          left: 400,
          requested: 600,
          periodEnd: '2026-07-02T00:00:00.000Z',
          message:
            'The budget of project api (daily, tokens) cannot take 600 tokens: limit 1,000 tokens, used 0 tokens, reserved 600 tokens, left 400 tokens, requested 600 tokens; the period ends at 2026-07-02T00:00:00.000Z',
        },
      ],
      message: expect.stringMatching(/^launch refused: The budget of project api/) as string,
    });
    // The refusal is announced, in the decision's transaction, with the same figures; the
    // grants were not.
    const announced = await outboxEvents(sql, 'budget.refused');
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ subject: scope.projectId, dataversion: 1 });
    expect(announced[0]!.data).toEqual({
      reservationId: r2.reservationId,
      runnerId: r2.runnerId,
      projectId: scope.projectId,
      projectName: 'api',
      estimateTokens: 600,
      estimateUsd: 0,
      refusals: (refused as { refusals: unknown }).refusals,
      message: (refused as { message: unknown }).message,
    });
    const check = (await h.handler.handle(
      'budgets.check',
      { projectId: scope.projectId, estimate: { tokens: 600 } },
      meta,
    )) as CheckBudgetReply;
    expect(check).toMatchObject({ allowed: false, refusals: [{ left: 400 }] });

    // Actual usage shrinks the reservation: used + reserved stays what was granted.
    h.clock.set('2026-07-01T10:00:30.000Z');
    await book({
      projectId: scope.projectId,
      runnerId: r1.runnerId,
      input: 200,
      observedAt: '2026-07-01T10:00:30.000Z',
    });
    expect(await get(scope.projectId)).toMatchObject({
      used: { tokens: 200 },
      reserved: { tokens: 400 },
      left: { tokens: 400 },
    });

    // Its usage renewed it until 10:01:30; past that it holds nothing, before any cleanup.
    h.clock.set('2026-07-01T10:01:30.000Z');
    expect((await get(scope.projectId)).reserved.tokens).toBe(0);
    expect((await h.roller.tick()).expired).toBe(1);
    const [row] = await sql.query<Array<{ release_reason: string }>>(
      `SELECT release_reason FROM budget.reservations WHERE reservation_id = $1`,
      [r1.reservationId],
    );
    expect(row?.release_reason).toBe('expired');

    // Room again; the runner's end releases its reservation.
    expect(
      await reserve({ ...r2, projectId: scope.projectId, estimate: { tokens: 600 } }),
    ).toMatchObject({ status: 'granted', leftTokens: 800 });
    await deliver(h, runnerEndedEvent('runner.completed', r2.runnerId, scope.projectId));
    expect((await get(scope.projectId)).reserved.tokens).toBe(0);
    const release = (await h.handler.handle(
      'budgets.release',
      { reservationId: r2.reservationId },
      meta,
    )) as ReleaseBudgetReply;
    expect(release.released).toBe(0);
  });

  it('refuses reservations once a hard budget is exceeded, until a raised limit or the next period', async () => {
    h.clock.set('2026-12-10T10:00:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, limitTokens: 1000 });
    const launch = (tokens: number) => reserveNew(scope.projectId, { tokens });

    await book({ projectId: scope.projectId, input: 1000, observedAt: '2026-12-10T10:00:01.000Z' });
    expect((await get(scope.projectId)).status).toBe('exceeded');
    // Even a launch that reserves nothing needs room left.
    for (const tokens of [0, 10]) {
      expect(await launch(tokens)).toMatchObject({
        status: 'refused',
        refusals: [
          { budgetId: budget.id, dimension: 'tokens', used: 1000, left: 0, requested: tokens },
        ],
      });
    }

    // A raised limit grants again, up to what it leaves.
    await set({ scope, limitTokens: 1500 });
    expect(await launch(400)).toMatchObject({ status: 'granted', leftTokens: 500 });
    expect(await launch(101)).toMatchObject({
      status: 'refused',
      refusals: [{ used: 1000, reserved: 400, left: 100, requested: 101 }],
    });

    // Exceeded again: refused up to the last millisecond of the period...
    await book({ projectId: scope.projectId, input: 500, observedAt: '2026-12-10T10:00:02.000Z' });
    expect((await get(scope.projectId)).status).toBe('exceeded');
    h.clock.set('2026-12-10T23:59:59.999Z');
    expect((await launch(0)).status).toBe('refused');

    // ... and granted from its end, with no roller running: the reservation rolls the period.
    // The grants of 10:00 expired (1 hour without usage), so nothing is held.
    h.clock.set('2026-12-11T00:00:00.000Z');
    expect(await launch(100)).toMatchObject({
      status: 'granted',
      leftTokens: 1500,
      reservations: [{ budgetId: budget.id, tokens: 100 }],
    });
    expect(await get(scope.projectId)).toMatchObject({
      periodStart: '2026-12-11T00:00:00.000Z',
      status: 'ok',
      used: { tokens: 0 },
      reserved: { tokens: 100 },
    });
  });

  it('grants leftUsd net of the spend and of what other reservations hold, to the micro-dollar', async () => {
    h.clock.set('2026-12-05T10:00:00.000Z');
    const scope = project();
    await set({ scope, limitTokens: undefined, limitUsd: 10 });
    const runnerA = { reservationId: randomUUID(), runnerId: randomUUID() };
    const reserveA = () =>
      reserve({ ...runnerA, projectId: scope.projectId, estimate: { usd: 2 } });
    expect(await reserveA()).toMatchObject({ status: 'granted', leftTokens: null, leftUsd: 10 });

    // A's own usage settles its reservation to 1.75; another runner spends without one.
    await bookUsd(scope.projectId, 0.25, '2026-12-05T10:00:10.000Z', runnerA.runnerId);
    await bookUsd(scope.projectId, 3.123456, '2026-12-05T10:00:20.000Z');
    expect(await get(scope.projectId)).toMatchObject({
      used: { usd: 3.373456 },
      reserved: { usd: 1.75 },
      left: { usd: 4.876544 },
    });

    // What runner-manager passes as --max-budget-usd: 10 - 3.373456 used - 1.75 held by A.
    h.clock.set('2026-12-05T10:01:00.000Z');
    const launch = (usd: number) => reserveNew(scope.projectId, { usd });
    expect(await launch(1)).toMatchObject({
      status: 'granted',
      leftUsd: 4.876544,
      reservations: [{ usd: 1 }],
    });
    expect(await launch(3.876545)).toMatchObject({
      status: 'refused',
      refusals: [{ dimension: 'usd', used: 3.373456, reserved: 2.75, left: 3.876544 }],
    });
    expect(await launch(3.876544)).toMatchObject({ status: 'granted', leftUsd: 3.876544 });

    // Nothing left, but A asking again may still spend what it holds.
    expect((await get(scope.projectId)).left.usd).toBe(0);
    expect(await reserveA()).toMatchObject({ status: 'granted', leftUsd: 1.75 });
  });
  it('never blocks a scope without a budget, and only warns for a soft one', async () => {
    h.clock.set('2026-08-01T00:00:00.000Z');
    const free = randomUUID();
    expect(await reserveNew(free, { tokens: 1e9 })).toEqual({
      status: 'granted',
      reservationId: expect.any(String) as string,
      reservations: [],
      leftTokens: null,
      leftUsd: null,
      softOverruns: [],
    });

    const scope = project();
    await set({ scope, limitUsd: 5, enforcement: 'soft' });
    await book({
      projectId: scope.projectId,
      input: 1,
      costUsd: 6,
      observedAt: '2026-08-01T00:00:01.000Z',
    });
    const soft = await reserveNew(scope.projectId, { usd: 1 });
    expect(soft).toMatchObject({
      status: 'granted',
      leftUsd: null,
      softOverruns: [{ dimension: 'usd', enforcement: 'soft', limit: 5, used: 6, left: 0 }],
    });
  });

  it('checks a launch from one read of the standings, equal to the views, rolling a due period first', async () => {
    h.clock.set('2026-09-01T10:00:00.000Z');
    const scope = project();
    const { budget } = await set({ scope, limitTokens: 1000, warnThresholds: [0.5] });
    await reserveNew(scope.projectId, { tokens: 300 });
    await book({ projectId: scope.projectId, input: 600, observedAt: '2026-09-01T10:00:01.000Z' });
    const check = (tokens: number) =>
      h.handler.handle(
        'budgets.check',
        { projectId: scope.projectId, projectName: 'api', estimate: { tokens } },
        meta,
      ) as Promise<CheckBudgetReply>;
    const list = () =>
      h.handler.handle('budgets.list', { projectId: scope.projectId }, meta) as Promise<{
        budgets: BudgetView[];
      }>;

    const allowed = await check(100);
    expect(allowed).toMatchObject({ allowed: true, refusals: [], message: null });
    expect(allowed.budgets).toEqual((await list()).budgets);
    expect(allowed.budgets.find((b) => b.id === budget.id)).toMatchObject({
      used: { tokens: 600 },
      reserved: { tokens: 300 },
      left: { tokens: 100 },
      thresholdsFired: [0.5],
      status: 'warning',
    });
    const refused = await check(101);
    expect(refused).toMatchObject({ allowed: false, refusals: [{ left: 100 }] });
    // The handler leaves the check's reply to its caller to parse: it must be the contract's
    // exactly (nothing a parse would strip or refuse).
    for (const reply of [allowed, refused]) {
      expect(checkBudgetReplySchema.parse(reply)).toStrictEqual(reply);
    }

    // Past the period's end with no roller running: the check rolls it before answering.
    h.clock.set('2026-09-02T00:00:05.000Z');
    const next = await check(1000);
    expect(next.allowed).toBe(true);
    expect(next.budgets.find((b) => b.id === budget.id)).toMatchObject({
      periodStart: '2026-09-02T00:00:00.000Z',
      used: { tokens: 0 },
      reserved: { tokens: 0 },
      thresholdsFired: [],
    });
    expect(next.budgets).toEqual((await list()).budgets);
  });

  /**
   * The late launch: its reservation was granted just before a hard budget was exceeded, and
   * its runner started after runner-manager had stopped the scope's runners for
   * `budget.exceeded`. budget-service names it in `budget.overrun` as soon as it books usage of it.
   */
  describe('budget.overrun: runners that spend into an exceeded hard budget', () => {
    interface OverrunData {
      budgetId: string;
      runnerId: string;
      runnerProjectId: string;
      periodStart: string;
      message: string;
    }

    // Subject: the runner; the budget is in the data.
    async function overrunEventsOf(budgetId: string): Promise<EventEnvelope[]> {
      return (await outboxEvents(sql, 'budget.overrun')).filter(
        (e) => (e.data as OverrunData).budgetId === budgetId,
      );
    }

    async function overrunsOf(budgetId: string): Promise<OverrunData[]> {
      return (await overrunEventsOf(budgetId)).map((e) => e.data as OverrunData);
    }

    it('names the late runner once, however many heartbeats it sends', async () => {
      h.clock.set('2026-10-01T10:00:00.000Z');
      const scope = project();
      const { budget } = await set({ scope, limitTokens: 1000 });
      const late = randomUUID();
      const early = randomUUID();
      const at = (minute: number) => `2026-10-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

      // The late launch is granted while there is room.
      const granted = await reserve({
        reservationId: randomUUID(),
        runnerId: late,
        projectId: scope.projectId,
        estimate: { tokens: 100 },
      });
      expect(granted.status).toBe('granted');

      // Another runner reaches the limit: budget.exceeded (runner-manager stops the scope's
      // runners; the late runner has no row yet) and new launches are refused.
      await book({ runnerId: early, projectId: scope.projectId, input: 1000, observedAt: at(1) });
      expect(await eventsOf(budget.id, 'budget.exceeded')).toHaveLength(1);
      expect((await overrunsOf(budget.id)).map((o) => o.runnerId)).toEqual([early]);
      const refused = await reserveNew(scope.projectId);
      expect(refused.status).toBe('refused');

      // The late runner starts and reports usage: it is named, once.
      await book({ runnerId: late, projectId: scope.projectId, input: 40, observedAt: at(2) });
      const named = await overrunEventsOf(budget.id);
      expect(named).toHaveLength(2);
      const first = named[1];
      expect(first).toMatchObject({
        type: 'budget.overrun',
        dataversion: 1,
        source: 'budget-service',
        subject: late,
        data: {
          budgetId: budget.id,
          scope,
          projectId: scope.projectId,
          enforcement: 'hard',
          runnerId: late,
          runnerProjectId: scope.projectId,
          limitTokens: 1000,
          usedTokens: 1040,
          exceededOn: ['tokens'],
          periodEnd: '2026-10-02T00:00:00.000Z',
        },
      });
      expect(() => stratavoreEvents.parse('budget.overrun', 1, first?.data)).not.toThrow();
      expect((first?.data as OverrunData).message).toBe(
        `The budget of project ${scope.projectId} (daily) is exceeded: used 1,040 tokens of ` +
          `1,000 tokens; runner ${late} spent after the limit was reached and is stopped; ` +
          'the period ends at 2026-10-02T00:00:00.000Z',
      );

      // Its next heartbeats, one after another and concurrent, name it no more.
      await book({ runnerId: late, projectId: scope.projectId, input: 10, observedAt: at(3) });
      await Promise.all(
        Array.from({ length: 10 }, () =>
          book({ runnerId: late, projectId: scope.projectId, output: 5, observedAt: at(4) }),
        ),
      );
      expect((await overrunsOf(budget.id)).map((o) => o.runnerId)).toEqual([early, late]);
      const [{ n }] = await sql.query<[{ n: number }]>(
        `SELECT count(*)::int AS n FROM budget.runner_overruns WHERE budget_id = $1 AND runner_id = $2`,
        [budget.id, late],
      );
      expect(n).toBe(1);
    });

    it('names the runner that reaches the limit, and every other runner that spends past it', async () => {
      h.clock.set('2026-10-01T11:00:00.000Z');
      const scope = project();
      const { budget } = await set({ scope, limitTokens: 1000 });
      const crossing = randomUUID();
      const other = randomUUID();

      await book({
        runnerId: crossing,
        projectId: scope.projectId,
        input: 1000,
        observedAt: '2026-10-01T11:00:01.000Z',
      });
      await book({
        runnerId: other,
        projectId: scope.projectId,
        input: 1,
        observedAt: '2026-10-01T11:00:02.000Z',
      });
      await book({
        runnerId: crossing,
        projectId: scope.projectId,
        input: 1,
        observedAt: '2026-10-01T11:00:03.000Z',
      });

      expect((await overrunsOf(budget.id)).map((o) => o.runnerId)).toEqual([crossing, other]);
    });

    it('names nobody for a soft budget, for usage the budget does not count, or below the limit', async () => {
      h.clock.set('2026-10-01T12:00:00.000Z');
      const at = '2026-10-01T12:00:01.000Z';
      const soft = project();
      const { budget: softBudget } = await set({
        scope: soft,
        limitTokens: 100,
        enforcement: 'soft',
      });
      await book({ projectId: soft.projectId, input: 150, observedAt: at });
      await book({ projectId: soft.projectId, input: 10, observedAt: at });
      expect(await eventsOf(softBudget.id, 'budget.exceeded')).toHaveLength(1);
      expect(await overrunsOf(softBudget.id)).toEqual([]);

      const counted = project();
      const { budget } = await set({ scope: counted, limitTokens: 100, tokenKinds: ['input'] });
      await book({ projectId: counted.projectId, input: 99, observedAt: at });
      await book({ projectId: counted.projectId, cacheRead: 500, output: 500, observedAt: at });
      expect(await overrunsOf(budget.id)).toEqual([]);
      await book({ projectId: counted.projectId, input: 1, observedAt: at });
      const idle = randomUUID();
      // A heartbeat that moved nothing the budget counts does not name its runner.
      await book({ runnerId: idle, projectId: counted.projectId, output: 7, observedAt: at });
      const named = (await overrunsOf(budget.id)).map((o) => o.runnerId);
      expect(named).toHaveLength(1);
      expect(named).not.toContain(idle);
    });

    it('names a runner again after a raised limit is reached again, and in a new exceeded period', async () => {
      h.clock.set('2026-10-01T13:00:00.000Z');
      const scope = project();
      const { budget } = await set({ scope, limitTokens: 1000 });
      const runner = randomUUID();
      const spend = (input: number, observedAt: string) =>
        book({ runnerId: runner, projectId: scope.projectId, input, observedAt });

      await spend(1200, '2026-10-01T13:00:01.000Z');
      expect(await overrunsOf(budget.id)).toHaveLength(1);

      // Raised above the spend: the budget is no longer exceeded, and spending below it names nobody.
      await set({ scope, limitTokens: 2000 });
      await spend(100, '2026-10-01T13:00:02.000Z');
      expect(await overrunsOf(budget.id)).toHaveLength(1);
      await spend(800, '2026-10-01T13:00:03.000Z');
      expect(await eventsOf(budget.id, 'budget.exceeded')).toHaveLength(2);
      expect(await overrunsOf(budget.id)).toHaveLength(2);

      // The next period (rolled by the booking itself) starts with nothing spent: spending there
      // names nobody until it is over.
      h.clock.set('2026-10-02T00:00:00.000Z');
      await spend(10, '2026-10-02T00:00:01.000Z');
      expect(await overrunsOf(budget.id)).toHaveLength(2);
      await spend(2000, '2026-10-02T00:00:02.000Z');
      const overruns = await overrunsOf(budget.id);
      // The first period began when the budget was created.
      expect(overruns.map((o) => o.periodStart)).toEqual([
        '2026-10-01T13:00:00.000Z',
        '2026-10-01T13:00:00.000Z',
        '2026-10-02T00:00:00.000Z',
      ]);
    });
  });
});
