import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CLOCK, ID_GENERATOR, ManualClock, RandomIdGenerator } from '@stratavore/core';
import { type HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { InProcessBus, MESSAGE_BUS } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

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
const TTL_MS = 30_000;
/** How the registry cache reads runners it does not hold (a flush's locking read aside). */
const REGISTRY_READ = /FROM heartbeat\.runners\s+WHERE runner_id = ANY\(\$1::uuid\[\]\)$/;

interface Replica {
  readonly bus: InProcessBus;
  readonly url: string;
  readonly store: HeartbeatStore;
  readonly writer: HeartbeatBatchWriter;
  readonly statements: string[];
  /** Moves the registry cache's monotonic time on. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * A heartbeat-ingest replica on the shared database with a bus of its own: it sees none of
 * the events the other replicas consume, only what they commit to the registry.
 */
async function startReplica(databaseUrl: string): Promise<Replica> {
  const bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, catalog: null });
  await bus.connect();
  const statements: string[] = [];
  let now = 0;

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
        databaseUrl,
        signingKey: TEST_SIGNING_KEY,
        batch: { flushIntervalMs: 60_000, maxEntries: 1_000 },
        defaultIntervalMs: 10_000,
        registryTtlMs: TTL_MS,
        monotonicNow: () => now,
        stale: { staleAfterIntervals: 3, checkIntervalMs: 60_000, massStaleMinActive: 3 },
        poolSize: 2,
        scheduler: idleScheduler,
        observeQueries: (statement) => statements.push(statement),
      }),
    ],
  })
  class ReplicaApp {}

  const app = await NestFactory.create<NestFastifyApplication>(ReplicaApp, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  return {
    bus,
    url: await app.getUrl(),
    store: app.get(HEARTBEAT_STORE),
    writer: app.get(HeartbeatBatchWriter),
    statements,
    advance: (ms) => {
      now += ms;
    },
    close: async () => {
      await app.close();
      await bus.close();
    },
  };
}

describe('the registry cache of heartbeat-ingest replicas, on PostgreSQL', () => {
  let db: TestDatabase;
  /** Consumes runner-manager's events. */
  let a: Replica;
  /** Hears no event: knows runners from the registry only. */
  let b: Replica;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_registry_cache');
    await migrateMessaging(db.url);
    a = await startReplica(db.url);
    b = await startReplica(db.url);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  async function register(runner: TestRunner): Promise<void> {
    await publish(a.bus, [launchedEvent(runner)]);
    await waitFor(() => a.store.findRunner(runner.runnerId), {
      description: `runner ${runner.runnerId} to be registered`,
    });
  }

  async function post(replica: Replica, runner: TestRunner) {
    seq += 1;
    const response = await fetch(`${replica.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runner.token}` },
      body: JSON.stringify(report(runner.runnerId, { seq })),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const registryReads = (replica: Replica) =>
    replica.statements.filter((s) => REGISTRY_READ.test(s)).length;

  it('accepts a runner registered through another replica, reading it once', async () => {
    const runner = newRunner();
    expect((await post(b, runner)).status).toBe(401);
    await register(runner);
    const readsBefore = registryReads(b);
    for (let i = 0; i < 3; i += 1) {
      expect(await post(b, runner)).toEqual({
        status: 200,
        body: { desiredState: 'continue', intervalMs: 10_000 },
      });
    }
    expect(registryReads(b) - readsBefore).toBe(1);
    // The replica whose consumer registered it never reads it.
    const aBefore = registryReads(a);
    expect((await post(a, runner)).status).toBe(200);
    expect(registryReads(a)).toBe(aBefore);
  });

  it('refuses a runner that ended once a flush read its row, whatever event it missed', async () => {
    const runner = newRunner();
    await register(runner);
    expect((await post(b, runner)).status).toBe(200);
    await publish(a.bus, [
      runnerEvent('runner.stopped', {
        runnerId: runner.runnerId,
        projectId: runner.projectId,
        exitCode: 0,
      }),
    ]);
    await waitFor(async () => (await a.store.findRunner(runner.runnerId))?.ended === true);
    expect((await post(a, runner)).status).toBe(409);
    // b has not heard: its copy is still trusted until a flush or the TTL says otherwise.
    expect((await post(b, runner)).status).toBe(200);
    await b.writer.flush();
    expect(await post(b, runner)).toMatchObject({ status: 409, body: { code: 'RUNNER_ENDED' } });
  });

  it('reads a runner again once its TTL passed', async () => {
    const runner = newRunner();
    await register(runner);
    expect((await post(b, runner)).body).toMatchObject({ desiredState: 'continue' });
    await publish(a.bus, [
      runnerEvent('runner.stopping', {
        runnerId: runner.runnerId,
        projectId: runner.projectId,
        requestedBy: 'user',
      }),
    ]);
    await waitFor(async () => (await a.store.findRunner(runner.runnerId))?.desiredState === 'stop');
    expect((await post(a, runner)).body).toMatchObject({ desiredState: 'stop' });
    b.advance(TTL_MS - 1);
    expect((await post(b, runner)).body).toMatchObject({ desiredState: 'continue' });
    b.advance(1);
    expect((await post(b, runner)).body).toMatchObject({ desiredState: 'stop' });
  });

  it('loads the active runners at start, so their first heartbeats read nothing', async () => {
    const active = newRunner();
    const ended = newRunner();
    await register(active);
    await register(ended);
    await publish(a.bus, [
      runnerEvent('runner.completed', {
        runnerId: ended.runnerId,
        projectId: ended.projectId,
        exitCode: 0,
      }),
    ]);
    await waitFor(async () => (await a.store.findRunner(ended.runnerId))?.ended === true);
    const c = await startReplica(db.url);
    try {
      expect((await post(c, active)).status).toBe(200);
      expect(registryReads(c)).toBe(0);
      // Ended runners are not loaded: read on sight, and refused.
      expect((await post(c, ended)).status).toBe(409);
      expect(registryReads(c)).toBe(1);
    } finally {
      await c.close();
    }
  });
});
