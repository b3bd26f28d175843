import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type HeartbeatRequest } from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, ManualClock, RandomIdGenerator } from '@stratavore/core';
import { type HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { InProcessBus, MESSAGE_BUS } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { HeartbeatBatchWriter, type Scheduler } from './heartbeat-batch-writer';
import {
  launchedEvent,
  migrateMessaging,
  newRunner,
  publish,
  runnerEvent,
  type TestRunner,
} from './heartbeat-ingest.int-test-support';
import { HEARTBEAT_STORE, HeartbeatIngestModule } from './heartbeat-ingest.module';
import { report, TEST_SIGNING_KEY } from './heartbeat-ingest.test-support';

/** Timers that never fire: the tests flush explicitly. */
const idleScheduler: Scheduler = { every: () => ({ cancel: () => undefined }) };

describe('heartbeat-ingest over HTTP on PostgreSQL', () => {
  let db: TestDatabase;
  let bus: InProcessBus;
  let app: NestFastifyApplication;
  let url: string;
  let store: HeartbeatStore;
  let writer: HeartbeatBatchWriter;
  let sql: Client;
  const statements: string[] = [];
  const clock = new ManualClock('2026-01-01T00:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_ingest_http');
    await migrateMessaging(db.url);
    bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, catalog: null });
    await bus.connect();

    @Module({
      providers: [
        { provide: MESSAGE_BUS, useValue: bus },
        { provide: CLOCK, useValue: clock },
        { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
      ],
      exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
    })
    class RuntimeStandIn {}

    @Module({
      imports: [
        { module: RuntimeStandIn, global: true },
        HeartbeatIngestModule.forRoot({
          databaseUrl: db.url,
          signingKey: TEST_SIGNING_KEY,
          batch: { flushIntervalMs: 60_000, maxEntries: 1_000 },
          defaultIntervalMs: 10_000,
          stale: { staleAfterIntervals: 3, checkIntervalMs: 60_000, massStaleMinActive: 3 },
          poolSize: 4,
          scheduler: idleScheduler,
          observeQueries: (statement) => statements.push(statement),
        }),
      ],
    })
    class TestApp {}

    app = await NestFactory.create<NestFastifyApplication>(TestApp, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    store = app.get(HEARTBEAT_STORE);
    writer = app.get(HeartbeatBatchWriter);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await app?.close();
    await bus?.close();
    await db?.drop();
  });

  async function register(runner: TestRunner, intervalMs = 10_000): Promise<void> {
    await publish(bus, [launchedEvent(runner, intervalMs)]);
    await waitFor(() => store.findRunner(runner.runnerId), {
      description: `runner ${runner.runnerId} to be registered`,
    });
  }

  function post(token: string | null, body: unknown) {
    return fetch(`${url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
  }

  async function outbox(subject: string, type: string) {
    const result = await sql.query<{ payload: { data: Record<string, unknown> } }>(
      `SELECT payload FROM messaging.outbox WHERE subject = $1 AND type = $2 ORDER BY position`,
      [subject, type],
    );
    return result.rows.map((row) => row.payload.data);
  }

  const tokens = (input: number, output: number) => ({
    inputTokens: input,
    outputTokens: output,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
  });

  it('answers the desired state and interval, and refuses tokens of other runners', async () => {
    const a = newRunner();
    const b = newRunner();
    await register(a, 5_000);
    await register(b);

    const ok = await post(a.token, report(a.runnerId));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ desiredState: 'continue', intervalMs: 5_000 });

    const foreign = await post(a.token, report(b.runnerId));
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({
      statusCode: 403,
      code: 'TOKEN_OF_ANOTHER_RUNNER',
    });
    expect((await post('forged-token', report(b.runnerId))).status).toBe(401);
    expect((await post(null, report(b.runnerId))).status).toBe(401);
    expect((await post(a.token, report(newRunner().runnerId))).status).toBe(403);
  });

  it('answers 400 naming the offending fields', async () => {
    const a = newRunner();
    await register(a);
    const response = await post(a.token, { ...report(a.runnerId), seq: -1, extra: true });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ field: string }> };
    expect(body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(body.errors.map((e) => e.field).sort()).toEqual(['(body)', 'seq']);
  });

  it('refuses a body that is not a JSON heartbeat', async () => {
    const a = newRunner();
    await register(a);
    const send = (contentType: string, body: string) =>
      fetch(`${url}/api/v1/heartbeat`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${a.token}` },
        body,
      });
    const malformed = await send('application/json', '{"runnerId": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ statusCode: 400 });
    // Fastify reads text/plain as a string, which is no heartbeat.
    const text = await send('text/plain', 'hello');
    expect(text.status).toBe(400);
    expect(await text.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await send('application/xml', '<heartbeat/>')).status).toBe(415);
    // A valid heartbeat after them is served as usual.
    const ok = await post(a.token, report(a.runnerId));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ desiredState: 'continue', intervalMs: 10_000 });
  });

  it('answers stop after runner.stopping and 409 once the runner ended', async () => {
    const a = newRunner();
    await register(a);
    await publish(bus, [runnerEvent('runner.stopping', { ...refOf(a), requestedBy: 'user' })]);
    await waitFor(async () => (await store.findRunner(a.runnerId))?.desiredState === 'stop');
    expect(await (await post(a.token, report(a.runnerId))).json()).toMatchObject({
      desiredState: 'stop',
    });
    await publish(bus, [runnerEvent('runner.stopped', { ...refOf(a), exitCode: 0 })]);
    await waitFor(async () => (await store.findRunner(a.runnerId))?.ended === true);
    const ended = await post(a.token, report(a.runnerId, { seq: 2 }));
    expect(ended.status).toBe(409);
    expect(await ended.json()).toMatchObject({ code: 'RUNNER_ENDED' });
  });

  it('books a repeated heartbeat once and covers a lost one with the next', async () => {
    const a = newRunner();
    await register(a);
    const send = async (body: HeartbeatRequest) => {
      expect((await post(a.token, body)).status).toBe(200);
      await writer.flush();
    };
    await send(report(a.runnerId, { seq: 1, status: 'starting', counters: tokens(100, 10) }));
    await send(report(a.runnerId, { seq: 1, status: 'starting', counters: tokens(100, 10) }));
    // seq 2 (150, 15) is lost
    await send(report(a.runnerId, { seq: 3, counters: tokens(200, 20) }));
    await send(report(a.runnerId, { seq: 2, counters: tokens(150, 15) }));

    const usage = await outbox(a.runnerId, 'usage.reported');
    expect(usage.map((u) => [u.inputTokens, u.outputTokens])).toEqual([
      [100, 10],
      [100, 10],
    ]);
    expect(await outbox(a.runnerId, 'heartbeat.first-received')).toHaveLength(1);
    expect(await store.findRunner(a.runnerId)).toMatchObject({
      lastSeq: 3,
      counters: tokens(200, 20),
    });
  });

  it('reports a changed session snapshot once and books its cost growth with the usage', async () => {
    const a = newRunner();
    await register(a);
    const model = (input: number, output: number) => ({
      input,
      output,
      cacheCreation5m: 0,
      cacheCreation1h: 0,
      cacheRead: 0,
      webSearchRequests: 0,
    });
    const session = (input: number, costUsd: number, waitingForInput = false) => ({
      sessionId: 'sess-int-1',
      models: { 'claude-sonnet-4-5': model(input, 10) },
      turns: 1,
      costUsd,
      reportedCostUsd: null,
      cwd: '/srv/app',
      transcriptPath: null,
      resumedFrom: null,
      waitingForInput,
      result: null,
    });
    const send = async (body: HeartbeatRequest) => {
      expect((await post(a.token, body)).status).toBe(200);
      await writer.flush();
    };
    const base = { sessionId: 'sess-int-1' };
    await send(
      report(a.runnerId, {
        ...base,
        seq: 1,
        counters: tokens(100, 10),
        session: session(100, 0.5),
      }),
    );
    await send(
      report(a.runnerId, {
        ...base,
        seq: 1,
        counters: tokens(100, 10),
        session: session(100, 0.5),
      }),
    );
    await send(
      report(a.runnerId, {
        ...base,
        seq: 2,
        counters: tokens(100, 10),
        session: session(100, 0.5),
      }),
    );
    await send(
      report(a.runnerId, {
        ...base,
        seq: 3,
        counters: tokens(100, 10),
        session: session(100, 0.5, true),
      }),
    );
    await send(
      report(a.runnerId, {
        ...base,
        seq: 4,
        counters: tokens(300, 10),
        session: session(300, 1.25),
      }),
    );

    const reported = await outbox(a.runnerId, 'session.reported');
    expect(
      reported.map((r) => [r.seq, (r.session as { waitingForInput: boolean }).waitingForInput]),
    ).toEqual([
      [1, false],
      [3, true],
      [4, false],
    ]);
    const usage = await outbox(a.runnerId, 'usage.reported');
    expect(usage.map((u) => [u.model, u.inputTokens, u.costUsd])).toEqual([
      ['claude-sonnet-4-5', 100, 0.5],
      ['claude-sonnet-4-5', 200, 0.75],
    ]);
    expect((await store.findRunner(a.runnerId))?.session).toMatchObject({
      costSessionId: 'sess-int-1',
      costUsd: 1.25,
    });
  });

  it('writes an exit report before answering and signals it once', async () => {
    const a = newRunner();
    await register(a);
    const exited = report(a.runnerId, {
      seq: 7,
      status: 'exited',
      exit: { code: 3, signal: null },
      counters: tokens(5, 1),
    });
    expect((await post(a.token, exited)).status).toBe(200);
    expect(await outbox(a.runnerId, 'heartbeat.exited')).toEqual([
      expect.objectContaining({ outcome: 'failed', failureReason: 'nonzero_exit', exitCode: 3 }),
    ]);
    expect((await post(a.token, exited)).status).toBe(200);
    expect(await outbox(a.runnerId, 'heartbeat.exited')).toHaveLength(1);
    const types = await sql.query<{ type: string }>(
      `SELECT type FROM messaging.outbox WHERE subject = $1 ORDER BY position`,
      [a.runnerId],
    );
    expect(types.rows.map((r) => r.type)).toEqual([
      'usage.reported',
      'heartbeat.first-received',
      'heartbeat.exited',
    ]);
  });

  it('writes the heartbeats of many runners with one statement per table', async () => {
    const runners = Array.from({ length: 25 }, () => newRunner());
    await publish(
      bus,
      runners.map((r) => launchedEvent(r)),
    );
    await waitFor(async () => (await store.findRunner(runners[24]!.runnerId)) !== null);
    await waitFor(async () => (await store.findRunner(runners[0]!.runnerId)) !== null);
    await writer.flush();
    for (const r of runners) {
      expect((await post(r.token, report(r.runnerId, { counters: tokens(1, 1) }))).status).toBe(
        200,
      );
    }
    statements.length = 0;
    await writer.flush();
    const liveness = statements.filter((s) => /INSERT INTO heartbeat\.liveness/.test(s));
    const progress = statements.filter((s) => /UPDATE heartbeat\.runners/.test(s));
    const outboxInserts = statements.filter((s) => /INSERT INTO messaging\.outbox/.test(s));
    expect([liveness.length, progress.length, outboxInserts.length]).toEqual([1, 1, 1]);
    const live = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM heartbeat.liveness WHERE runner_id = ANY($1::uuid[])`,
      [runners.map((r) => r.runnerId)],
    );
    expect(live.rows[0]?.n).toBe(25);
  });
});

function refOf(runner: TestRunner) {
  return { runnerId: runner.runnerId, projectId: runner.projectId };
}
