// Two heartbeat-ingest replicas on RabbitMQ and one PostgreSQL: they share the registry
// consumer's queue, so each runner-manager event reaches one of them there, and each has its
// own transient queue of registry changes. Whatever replica consumed an event, both must answer
// heartbeats by it, long before their cached copies expire.
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CLOCK, ID_GENERATOR, RandomIdGenerator, SystemClock } from '@stratavore/core';
import { type HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { consumerQueues, MESSAGE_BUS, RabbitMqBus } from '@stratavore/messaging';
import {
  createTestDatabase,
  requireAmqpUrl,
  type TestDatabase,
  uniqueName,
  waitFor,
} from '@stratavore/testing';
import { connect } from 'amqplib';

import { type Scheduler } from './heartbeat-batch-writer';
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

const amqpUrl = requireAmqpUrl();
/** Timers that never fire: no flush and no sweep refreshes a replica's cache behind the test. */
const idleScheduler: Scheduler = { every: () => ({ cancel: () => undefined }) };

interface Replica {
  readonly url: string;
  readonly store: HeartbeatStore;
  close(): Promise<void>;
}

describe('heartbeat-ingest replicas follow registry changes on RabbitMQ', () => {
  const exchange = uniqueName('hb-registry-int.events');
  const dlx = uniqueName('hb-registry-int.dlx');
  const unrouted = uniqueName('hb-registry-int.unrouted');
  const consumer = uniqueName('hb-registry-int');
  const instances = ['r1', 'r2'];
  let db: TestDatabase;
  let publisher: RabbitMqBus;
  const replicas: Replica[] = [];
  let seq = 0;

  function bus(serviceName: string): RabbitMqBus {
    return new RabbitMqBus({
      url: amqpUrl,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      signingKey: TEST_SIGNING_KEY,
      serviceName,
      catalog: null,
      connectTimeoutMs: 5_000,
      closeTimeoutMs: 2_000,
    });
  }

  async function startReplica(instanceId: string): Promise<Replica> {
    const replicaBus = bus(`heartbeat-ingest-${instanceId}`);
    await replicaBus.connect();

    @Module({
      providers: [
        { provide: MESSAGE_BUS, useValue: replicaBus },
        { provide: CLOCK, useValue: new SystemClock() },
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
          batch: { flushIntervalMs: 600_000, maxEntries: 1_000 },
          defaultIntervalMs: 10_000,
          // Only events can explain a change seen within the test.
          registryTtlMs: 600_000,
          consumer,
          instanceId,
          stale: { staleAfterIntervals: 3, checkIntervalMs: 600_000, massStaleMinActive: 3 },
          poolSize: 2,
          scheduler: idleScheduler,
        }),
      ],
    })
    class ReplicaApp {}

    const app = await NestFactory.create<NestFastifyApplication>(ReplicaApp, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    return {
      url: await app.getUrl(),
      store: app.get(HEARTBEAT_STORE),
      close: async () => {
        await app.close();
        await replicaBus.close();
      },
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_registry_amqp');
    await migrateMessaging(db.url);
    publisher = bus('heartbeat-registry-int-publisher');
    await publisher.connect();
    for (const instanceId of instances) replicas.push(await startReplica(instanceId));
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.close().catch(() => undefined);
    await publisher?.close();
    await db?.drop();
    const connection = await connect(amqpUrl);
    try {
      const queues = [
        ...Object.values(consumerQueues(consumer)),
        ...instances.map((id) => `${consumer}.registry.${id}`),
        unrouted,
      ];
      for (const name of queues) {
        const channel = await connection.createChannel();
        await channel.deleteQueue(name).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
      for (const name of [exchange, dlx, unrouted]) {
        const channel = await connection.createChannel();
        await channel.deleteExchange(name).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    } finally {
      await connection.close();
    }
  });

  async function post(replica: Replica, runner: TestRunner) {
    seq += 1;
    const response = await fetch(`${replica.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runner.token}` },
      body: JSON.stringify(report(runner.runnerId, { seq })),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const refOf = (runner: TestRunner) => ({
    runnerId: runner.runnerId,
    projectId: runner.projectId,
  });

  async function launch(runner: TestRunner): Promise<void> {
    await publish(publisher, [launchedEvent(runner)]);
    await waitFor(() => replicas[0]!.store.findRunner(runner.runnerId), {
      description: `runner ${runner.runnerId} to be registered`,
    });
  }

  it('accepts a runner on every replica, whichever consumed its launch', async () => {
    const runners = [newRunner(), newRunner(), newRunner(), newRunner()];
    for (const runner of runners) await launch(runner);
    for (const runner of runners) {
      for (const replica of replicas) {
        expect(await post(replica, runner)).toEqual({
          status: 200,
          body: { desiredState: 'continue', intervalMs: 10_000 },
        });
      }
    }
  });

  it('answers stop, then refuses a runner that ended, on every replica', async () => {
    const runners = [newRunner(), newRunner(), newRunner(), newRunner()];
    for (const runner of runners) {
      await launch(runner);
      // Both replicas hold the runner now, for the next ten minutes.
      for (const replica of replicas) expect((await post(replica, runner)).status).toBe(200);
    }
    await publish(
      publisher,
      runners.map((r) => runnerEvent('runner.stopping', { ...refOf(r), requestedBy: 'user' })),
    );
    for (const runner of runners) {
      for (const replica of replicas) {
        await waitFor(async () => (await post(replica, runner)).body.desiredState === 'stop', {
          description: `replica ${replica.url} to answer stop to ${runner.runnerId}`,
        });
      }
    }
    await publish(
      publisher,
      runners.map((r) => runnerEvent('runner.stopped', { ...refOf(r), exitCode: 0 })),
    );
    for (const runner of runners) {
      for (const replica of replicas) {
        await waitFor(async () => (await post(replica, runner)).status === 409, {
          description: `replica ${replica.url} to refuse ${runner.runnerId}`,
        });
      }
    }
    // Each event went to one replica's registry consumer; the other heard it on its own queue.
    for (const runner of runners) {
      expect(await replicas[1]!.store.findRunner(runner.runnerId)).toMatchObject({ ended: true });
    }
  });
});
