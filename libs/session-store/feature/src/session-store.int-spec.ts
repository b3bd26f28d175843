import { randomUUID } from 'node:crypto';

import {
  type RunnersStatsReply,
  SESSION_STORE_SERVICE,
  type SessionDetail,
  type SessionListReply,
  SessionStoreErrorCode,
  type UsageByReply,
} from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';
import { Client } from 'pg';

import {
  launched,
  newRunner,
  reported,
  runnerEvent,
  sessionSnapshot,
  type SessionStoreUnderTest,
  startSessionStore,
  usage,
} from './session-store.int-test-support';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('session-store consumer and queries on PostgreSQL', () => {
  let db: TestDatabase;
  let store: SessionStoreUnderTest;
  let sql: Client;

  beforeAll(async () => {
    db = await createTestDatabase('session_store_consumer');
    store = await startSessionStore({ databaseUrl: db.url });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await store?.stop();
    await db?.drop();
  });

  function request<T>(pattern: string, payload: unknown): Promise<T> {
    return store.bus.request<T>(SESSION_STORE_SERVICE, pattern, payload);
  }

  async function eventsOf(sessionId: string) {
    const rows = await sql.query<{ type: string; payload: { data: Record<string, unknown> } }>(
      `SELECT type, payload FROM messaging.outbox WHERE subject = $1 ORDER BY position`,
      [sessionId],
    );
    return rows.rows.map((row) => ({ type: row.type, data: row.payload.data }));
  }

  async function sessionRow(sessionId: string) {
    const rows = await sql.query(`SELECT * FROM session.sessions WHERE id = $1`, [sessionId]);
    return rows.rows[0] as Record<string, unknown> | undefined;
  }

  it('records a session once per event, and an older snapshot after a newer one changes nothing', async () => {
    const runner = newRunner();
    const id = `sess-${randomUUID()}`;
    const first = reported(runner, 1, sessionSnapshot(id), at(0));
    const third = reported(
      runner,
      3,
      sessionSnapshot(id, {
        models: { 'claude-sonnet-4-5': usage(300, 30) },
        turns: 3,
        costUsd: 3,
      }),
      at(20),
    );
    const second = reported(
      runner,
      2,
      sessionSnapshot(id, {
        models: { 'claude-sonnet-4-5': usage(200, 20) },
        turns: 2,
        costUsd: 2,
      }),
      at(10),
    );

    expect(await store.deliver(first)).toBe('ack');
    expect(await store.deliver(first)).toBe('ack');
    expect(await store.deliver(third)).toBe('ack');
    const before = await sessionRow(id);
    expect(await store.deliver(second)).toBe('ack');
    expect(await sessionRow(id)).toEqual(before);

    const detail = await request<SessionDetail>('sessions.get', { session: id });
    expect(detail).toMatchObject({
      id,
      projectId: runner.projectId,
      runnerId: runner.runnerId,
      runnerIds: [runner.runnerId],
      turns: 3,
      costUsd: 3,
      tokens: { input: 300, output: 30, cacheCreation: 0, cacheRead: 0 },
      startedAt: at(0).toISOString(),
      lastSeenAt: at(20).toISOString(),
      endedAt: null,
    });
    expect(detail.runs).toEqual([expect.objectContaining({ runnerId: runner.runnerId, seq: 3 })]);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['session.started', 'session.updated']);

    const ledger = await sql.query<{ input_tokens: string; cost_usd: string }>(
      `SELECT input_tokens, cost_usd FROM session.usage_daily WHERE project_id = $1`,
      [runner.projectId],
    );
    expect(ledger.rows).toEqual([{ input_tokens: '300', cost_usd: '3.0000000000' }]);
  });

  it('sums two runners of a resumed session and ends it with the result, reopening on resume', async () => {
    const projectId = randomUUID();
    const a = newRunner(projectId);
    const b = newRunner(projectId);
    const id = `sess-${randomUUID()}`;
    const maxTurns = {
      subtype: 'error_max_turns',
      isError: true,
      resumable: true,
      resumeAt: null,
    };
    await store.deliver(reported(a, 1, sessionSnapshot(id, { turns: 2 }), at(0)));
    await store.deliver(
      reported(a, 2, sessionSnapshot(id, { turns: 2, result: maxTurns }), at(30)),
    );
    await store.deliver(
      reported(
        b,
        1,
        sessionSnapshot(id, {
          models: { 'claude-sonnet-4-5': usage(50, 5), 'claude-haiku-4-5': usage(20, 2) },
          turns: 1,
          costUsd: 0.5,
          resumedFrom: null,
        }),
        at(60),
      ),
    );
    await store.deliver(
      reported(
        b,
        2,
        sessionSnapshot(id, {
          models: { 'claude-sonnet-4-5': usage(50, 5), 'claude-haiku-4-5': usage(20, 2) },
          turns: 1,
          costUsd: 0.5,
          result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
        }),
        at(90),
      ),
    );

    const detail = await request<SessionDetail>('sessions.get', { session: id });
    expect(detail).toMatchObject({
      runnerId: a.runnerId,
      runnerIds: [a.runnerId, b.runnerId],
      turns: 3,
      costUsd: 1.5,
      tokens: { input: 170, output: 17 },
      result: { subtype: 'success' },
      endedAt: at(90).toISOString(),
    });
    expect(Object.keys(detail.models).sort()).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5']);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual([
      'session.started',
      'session.updated',
      'session.ended',
      'session.updated',
      'session.updated',
      'session.ended',
    ]);
    expect(events[2]?.data).toMatchObject({ reason: 'result', resumable: true });
    expect(events[3]?.data).toMatchObject({ endedAt: null, runnerIds: [a.runnerId, b.runnerId] });

    const list = await request<SessionListReply>('sessions.list', { runner: b.runnerId });
    expect(list.sessions.map((s) => s.id)).toEqual([id]);
  });

  it('creates a session once when two runners report it for the first time together', async () => {
    const projectId = randomUUID();
    const id = `sess-${randomUUID()}`;
    const runners = [newRunner(projectId), newRunner(projectId), newRunner(projectId)];
    await Promise.all(
      runners.map((runner, i) => store.deliver(reported(runner, 1, sessionSnapshot(id), at(i)))),
    );

    const detail = await request<SessionDetail>('sessions.get', { session: id });
    expect(detail.runnerIds).toHaveLength(3);
    expect(detail).toMatchObject({ turns: 3, costUsd: 3, tokens: { input: 300 } });
    const types = (await eventsOf(id)).map((e) => e.type);
    expect(types.filter((t) => t === 'session.started')).toHaveLength(1);
    expect(types.filter((t) => t === 'session.updated')).toHaveLength(2);
  });

  it('ends a session when its runner ends without a result, once', async () => {
    const runner = newRunner();
    const id = `sess-${randomUUID()}`;
    await store.deliver(launched(runner, at(-5)));
    await store.deliver(runnerEvent('runner.running', runner, at(-1)));
    await store.deliver(reported(runner, 1, sessionSnapshot(id), at(0)));
    const killed = runnerEvent('runner.failed', runner, at(40), { reason: 'killed' });
    await store.deliver(killed);
    await store.deliver(killed);

    expect((await sessionRow(id))?.ended_at).toEqual(at(40));
    const ended = (await eventsOf(id)).filter((e) => e.type === 'session.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]?.data).toMatchObject({ reason: 'runner_ended', runnerId: runner.runnerId });
  });

  it('answers usage by project, model and day, and runner statistics', async () => {
    const projectId = randomUUID();
    const a = newRunner(projectId);
    const b = newRunner(projectId);
    const day1 = new Date('2026-02-10T23:00:00.000Z');
    const day2 = new Date('2026-02-11T01:00:00.000Z');
    await store.deliver(launched(a, day1));
    await store.deliver(launched(b, day1));
    await store.deliver(runnerEvent('runner.running', a, new Date(day1.getTime() + 1_000)));
    await store.deliver(reported(a, 1, sessionSnapshot(`u-${a.runnerId}`), day1));
    await store.deliver(
      reported(
        a,
        2,
        sessionSnapshot(`u-${a.runnerId}`, {
          models: { 'claude-sonnet-4-5': usage(150, 15) },
          costUsd: 1.5,
        }),
        day2,
      ),
    );
    await store.deliver(
      runnerEvent('runner.completed', a, new Date(day1.getTime() + 61_000), { exitCode: 0 }),
    );
    await store.deliver(
      runnerEvent('runner.failed', b, new Date(day1.getTime() + 10_000), {
        reason: 'nonzero_exit',
        exitCode: 2,
      }),
    );

    const range = { from: '2026-02-10', to: '2026-02-11', project: projectId };
    const byDay = await request<UsageByReply>('usage.by', { by: 'day', ...range });
    expect(byDay.rows.map((r) => [r.key, r.tokens.input, r.costUsd])).toEqual([
      ['2026-02-10', 100, 1],
      ['2026-02-11', 50, 0.5],
    ]);
    expect(byDay.total).toMatchObject({ costUsd: 1.5, tokens: { input: 150, output: 15 } });
    const byModel = await request<UsageByReply>('usage.by', { by: 'model', ...range });
    expect(byModel.rows.map((r) => r.key)).toEqual(['claude-sonnet-4-5']);
    const byProject = await request<UsageByReply>('usage.by', { by: 'project', ...range });
    expect(byProject.rows.map((r) => [r.key, r.costUsd])).toEqual([[projectId, 1.5]]);
    const oneDay = await request<UsageByReply>('usage.by', {
      by: 'model',
      from: '2026-02-11',
      to: '2026-02-11',
      project: projectId,
    });
    expect(oneDay.total.tokens.input).toBe(50);

    const stats = await request<RunnersStatsReply>('runners.stats', range);
    expect(stats.projects).toEqual([
      {
        projectId,
        launched: 2,
        active: 0,
        completed: 1,
        failed: 1,
        stopped: 0,
        successRate: 0.5,
        failureReasons: { nonzero_exit: 1 },
        durationMs: { avg: 35_000, p50: 35_000, p95: 57_500, max: 60_000 },
      },
    ]);
    expect(stats.total).toMatchObject({ launched: 2, completed: 1, failed: 1 });
  });

  it('answers not found and validation errors with their codes', async () => {
    await expect(request('sessions.get', { session: 'no-such-session' })).rejects.toMatchObject({
      code: SessionStoreErrorCode.SessionNotFound,
    });
    await expect(request('sessions.list', { limit: 0 })).rejects.toMatchObject({
      code: SessionStoreErrorCode.ValidationFailed,
      details: { issues: [expect.objectContaining({ field: 'limit' })] },
    });
    await expect(
      request('sessions.transcript', { session: 'no-such-session' }),
    ).rejects.toMatchObject({ code: SessionStoreErrorCode.SessionNotFound });
  });

  it('dead-letters a malformed snapshot', async () => {
    const event = reported(newRunner(), 1, sessionSnapshot('s'), at(0));
    const broken = { ...event, data: { ...(event.data as object), seq: -1 } };
    expect(await store.deliver(broken)).toBe('dead-letter');
  });
});
