import { randomUUID } from 'node:crypto';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  HEARTBEAT_INGEST_SERVICE,
  type HeartbeatRequest,
  type LivenessReply,
  livenessReplySchema,
} from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, ManualClock, RandomIdGenerator } from '@stratavore/core';
import { type HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { InProcessBus, MESSAGE_BUS, RemoteRequestError } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

import { HeartbeatBatchWriter, type Scheduler } from './heartbeat-batch-writer';
import {
  launchedEvent,
  migrateMessaging,
  newRunner,
  publish,
  type TestRunner,
} from './heartbeat-ingest.int-test-support';
import { HEARTBEAT_STORE, HeartbeatIngestModule } from './heartbeat-ingest.module';
import { report, TEST_SIGNING_KEY } from './heartbeat-ingest.test-support';

/** Timers that never fire: the tests flush explicitly. */
const idleScheduler: Scheduler = { every: () => ({ cancel: () => undefined }) };

describe('liveness.get over the bus, on PostgreSQL', () => {
  let db: TestDatabase;
  let bus: InProcessBus;
  let app: NestFastifyApplication;
  let url: string;
  let store: HeartbeatStore;
  let writer: HeartbeatBatchWriter;

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_liveness');
    await migrateMessaging(db.url);
    bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, catalog: null });
    await bus.connect();

    @Module({
      providers: [
        { provide: MESSAGE_BUS, useValue: bus },
        { provide: CLOCK, useValue: new ManualClock('2026-01-01T00:00:00.000Z') },
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
          poolSize: 2,
          scheduler: idleScheduler,
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
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await db?.drop();
  });

  async function register(runner: TestRunner): Promise<void> {
    await publish(bus, [launchedEvent(runner)]);
    await waitFor(() => store.findRunner(runner.runnerId), {
      description: `runner ${runner.runnerId} to be registered`,
    });
  }

  async function beat(runner: TestRunner, overrides: Partial<HeartbeatRequest>): Promise<void> {
    const response = await fetch(`${url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runner.token}` },
      body: JSON.stringify(report(runner.runnerId, overrides)),
    });
    expect(response.status).toBe(200);
  }

  async function liveness(runnerIds: string[]): Promise<LivenessReply> {
    const reply = await bus.request<unknown>(HEARTBEAT_INGEST_SERVICE, 'liveness.get', {
      runnerIds,
    });
    return livenessReplySchema.parse(reply);
  }

  const counters = (input: number, output: number) => ({
    inputTokens: input,
    outputTokens: output,
    cacheCreationTokens: 1,
    cacheReadTokens: 2,
  });

  it('answers flushed liveness with the booked counters, leaving out silent and unknown runners', async () => {
    const reporting = newRunner();
    const silent = newRunner();
    await register(reporting);
    await register(silent);
    await beat(reporting, {
      seq: 3,
      pid: 5151,
      cpuPercent: 12.5,
      memoryBytes: 104_857_600,
      counters: counters(100, 40),
    });
    await writer.flush();
    expect(writer.buffered).toBe(0);

    const reply = await liveness([reporting.runnerId, silent.runnerId, randomUUID()]);

    expect(reply.runners).toEqual([
      {
        runnerId: reporting.runnerId,
        lastHeartbeatAt: expect.any(String) as string,
        pid: 5151,
        cpuPercent: 12.5,
        memoryBytes: 104_857_600,
        status: 'running',
        seq: 3,
        counters: counters(100, 40),
      },
    ]);
    const stored = await store.findLiveness(reporting.runnerId);
    expect(reply.runners[0]?.lastHeartbeatAt).toBe(stored?.lastHeartbeatAt.toISOString());
  });

  it('overlays heartbeats still in the buffer over what was flushed', async () => {
    const flushedThenNewer = newRunner();
    const bufferedOnly = newRunner();
    await register(flushedThenNewer);
    await register(bufferedOnly);
    await beat(flushedThenNewer, { seq: 1, cpuPercent: 1, counters: counters(10, 1) });
    await writer.flush();
    await beat(flushedThenNewer, { seq: 2, cpuPercent: 80, counters: counters(25, 5) });
    await beat(bufferedOnly, { seq: 1, pid: 777, status: 'starting', counters: counters(0, 0) });
    expect(writer.buffered).toBe(2);

    const reply = await liveness([flushedThenNewer.runnerId, bufferedOnly.runnerId]);

    expect(reply.runners).toEqual([
      expect.objectContaining({
        runnerId: flushedThenNewer.runnerId,
        seq: 2,
        cpuPercent: 80,
        counters: counters(25, 5),
      }),
      expect.objectContaining({ runnerId: bufferedOnly.runnerId, pid: 777, status: 'starting' }),
    ]);
    await writer.flush();
    expect((await liveness([flushedThenNewer.runnerId])).runners[0]).toMatchObject({
      seq: 2,
      counters: counters(25, 5),
    });
  });

  it('answers an empty list for no ids, and refuses more than 500 ids or ids that are not uuids', async () => {
    expect(await liveness([])).toEqual({ runners: [] });
    const tooMany = Array.from({ length: 501 }, () => randomUUID());
    for (const runnerIds of [tooMany, ['not-a-uuid']]) {
      const failure = bus.request(HEARTBEAT_INGEST_SERVICE, 'liveness.get', { runnerIds });
      await expect(failure).rejects.toBeInstanceOf(RemoteRequestError);
      await expect(failure).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await expect(
      bus.request(HEARTBEAT_INGEST_SERVICE, 'liveness.list', { runnerIds: [] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
