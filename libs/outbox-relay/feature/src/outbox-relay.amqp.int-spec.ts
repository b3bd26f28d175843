import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { type EventEnvelope } from '@stratavore/contracts';
import { SystemClock } from '@stratavore/core';
import {
  consumerQueues,
  createMessagingDataSource,
  type DeliveredEvent,
  Inbox,
  OutboxListener,
  type OutboxStore,
  OutboxWriter,
  PostgresOutboxStore,
  RabbitMqBus,
  type Subscription,
} from '@stratavore/messaging';
import { runMigrations, withTransaction } from '@stratavore/persistence';
import {
  createTestDatabase,
  requireAmqpUrl,
  TcpProxy,
  type TestDatabase,
  uniqueName,
  waitFor,
} from '@stratavore/testing';
import { connect } from 'amqplib';
import { type DataSource } from 'typeorm';

import { OutboxRelay } from './outbox-relay';
import { type OutboxRelayOptionsInput } from './outbox-relay.options';
import { relayTestEvent } from './relay-events.test-support';

const amqpUrl = requireAmqpUrl();
const SIGNING_KEY = 'outbox-relay-int-spec-key';
/** The relay process test (b) kills between publish and mark. */
const DYING = join(__dirname, 'dying-relay.test-support.ts');

describe('OutboxRelay against PostgreSQL and RabbitMQ', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let exchange: string;
  let dlx: string;
  let unrouted: string;
  const writer = new OutboxWriter();
  const cleanups: Array<() => Promise<unknown>> = [];
  const queues: string[] = [];

  function bus(url = amqpUrl): RabbitMqBus {
    const created = new RabbitMqBus({
      url,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      signingKey: SIGNING_KEY,
      serviceName: 'outbox-relay-int-spec',
      catalog: null,
      publishTimeoutMs: 2_000,
      connectTimeoutMs: 5_000,
      closeTimeoutMs: 2_000,
    });
    cleanups.push(() => created.close());
    return created;
  }

  function envelope(type: string, subject: string, seq: number): EventEnvelope {
    return relayTestEvent(SIGNING_KEY, type, subject, seq);
  }

  async function commit(envelopes: EventEnvelope[]): Promise<void> {
    await withTransaction(dataSource, (manager) => writer.append(manager, envelopes));
  }

  function relay(
    store: OutboxStore,
    publisher: RabbitMqBus,
    options: OutboxRelayOptionsInput = {},
  ): OutboxRelay {
    const listener = new OutboxListener({ url: database.url, reconnectDelayMs: 100 });
    const created = new OutboxRelay({
      store,
      publisher,
      clock: new SystemClock(),
      wakeUps: listener,
      options: {
        batchSize: 100,
        publishTimeoutMs: 2_000,
        backoffBaseMs: 50,
        backoffMaxMs: 400,
        idlePollIntervalMs: 200,
        maxAttempts: 1_000,
        ...options,
      },
    });
    cleanups.push(() => created.stop().then(() => listener.stop()));
    return created;
  }

  /** A consumer recording every delivery, in arrival order. */
  async function consume(
    consumerBus: RabbitMqBus,
    patterns: string[],
    handler: (event: DeliveredEvent) => Promise<void> = () => Promise.resolve(),
  ): Promise<DeliveredEvent[]> {
    await consumerBus.connect();
    const consumer = uniqueName('relay-int');
    queues.push(...Object.values(consumerQueues(consumer)));
    const seen: DeliveredEvent[] = [];
    const subscription: Subscription = await consumerBus.subscribe(
      { consumer, patterns, prefetch: 50 },
      async (event) => {
        seen.push(event);
        await handler(event);
        return 'ack';
      },
    );
    cleanups.push(() => subscription.cancel());
    return seen;
  }

  async function outboxState() {
    const rows = await dataSource.query<
      Array<{ pending: number; dead: number; max_attempts: number }>
    >(
      `SELECT count(*) FILTER (WHERE published_at IS NULL AND dead_lettered_at IS NULL)::int AS pending,
              count(*) FILTER (WHERE dead_lettered_at IS NOT NULL)::int AS dead,
              COALESCE(max(attempts), 0)::int AS max_attempts
       FROM messaging.outbox`,
    );
    return rows[0]!;
  }

  beforeEach(async () => {
    exchange = uniqueName('relay-int.events');
    dlx = uniqueName('relay-int.dlx');
    unrouted = uniqueName('relay-int.unrouted');
    queues.push(unrouted);
    database = await createTestDatabase('outbox_relay');
    dataSource = createMessagingDataSource({ url: database.url, poolSize: 6 });
    await dataSource.initialize();
    await runMigrations(dataSource);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await dataSource.destroy();
    await database.drop();
    const connection = await connect(amqpUrl);
    try {
      for (const name of queues.splice(0)) {
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

  it('(a) delivers everything committed while the broker was unreachable once it is back', async () => {
    const proxy = await TcpProxy.start(amqpUrl);
    cleanups.push(() => proxy.close());
    const seen = await consume(bus(), ['test.*']);
    const publisher = bus(proxy.rewrite(amqpUrl));
    await publisher.connect();
    const running = relay(new PostgresOutboxStore(dataSource), publisher);
    await running.start();

    proxy.cut();
    await waitFor(() => !publisher.isConnected(), { description: 'the relay bus to notice' });
    const total = 300;
    for (let i = 0; i < total; i += 30) {
      await commit(
        Array.from({ length: 30 }, (_, k) => envelope('test.happened', `s${k % 7}`, i + k)),
      );
    }
    await waitFor(async () => (await outboxState()).max_attempts >= 2, {
      description: 'failed publication attempts during the outage',
    });
    expect(seen).toHaveLength(0);

    proxy.restore();
    await waitFor(() => seen.length >= total, { timeoutMs: 20_000, description: 'all events' });
    await waitFor(async () => (await outboxState()).pending === 0, { description: 'marked' });
    expect(new Set(seen.map((e) => e.envelope.id)).size).toBe(total);
    expect((await outboxState()).dead).toBe(0);
  });

  it('(b) a relay killed between publish and mark yields duplicates the inbox absorbs', async () => {
    await dataSource.query('CREATE TABLE public.side_effects (event_id uuid NOT NULL)');
    const inbox = new Inbox();
    const consumerName = 'relay-int-effects';
    let duplicates = 0;
    const seen = await consume(bus(), ['test.*'], async ({ envelope }) => {
      const result = await inbox.runOnce(dataSource, consumerName, envelope.id, (manager) =>
        manager.query('INSERT INTO public.side_effects (event_id) VALUES ($1)', [envelope.id]),
      );
      if (result === 'duplicate') duplicates++;
    });
    const total = 50;
    await commit(
      Array.from({ length: total }, (_, i) => envelope('test.happened', `s${i % 5}`, i)),
    );

    // First relay, in a process of its own: publishes, and is SIGKILLed before it marks.
    const dying = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), DYING], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        SWC_NODE_PROJECT: join(__dirname, '../../../../tsconfig.base.json'),
        DATABASE_URL: database.url,
        AMQP_URL: amqpUrl,
        RELAY_EXCHANGE: exchange,
        RELAY_DLX: dlx,
        RELAY_UNROUTED: unrouted,
        RELAY_SIGNING_KEY: SIGNING_KEY,
      },
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      dying.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    cleanups.push(async () => {
      dying.kill('SIGKILL');
      await exited;
    });
    let marking = 0;
    dying.on('message', (message: { marking?: number }) => {
      if (message.marking) marking += message.marking;
    });
    await waitFor(() => marking > 0 && seen.length >= total, {
      timeoutMs: 30_000,
      description: 'the first relay to publish everything and reach its first mark',
    });
    dying.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Killed before any mark: every row is still unpublished, though consumed once.
    expect((await outboxState()).pending).toBe(total);
    expect(seen).toHaveLength(total);

    const secondBus = bus();
    await secondBus.connect();
    const second = relay(new PostgresOutboxStore(dataSource), secondBus);
    await second.start();
    await waitFor(() => seen.length >= 2 * total, { timeoutMs: 15_000, description: 'redelivery' });
    await waitFor(async () => (await outboxState()).pending === 0, { description: 'marked' });
    // `seen` counts deliveries as they arrive; their inbox transactions may still be running.
    await waitFor(() => duplicates === seen.length - total, {
      description: 'every redelivery handled by the inbox as a duplicate',
    });

    const effects = await dataSource.query<Array<{ n: number; d: number }>>(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM public.side_effects',
    );
    expect(effects[0]).toEqual({ n: total, d: total });
    expect(duplicates).toBe(seen.length - total);
    expect(duplicates).toBeGreaterThanOrEqual(total);
  });

  it('(c) dead-letters a poison event without blocking the events behind it', async () => {
    const seen = await consume(bus(), ['good.*']);
    const publisher = bus();
    await publisher.connect();
    // An unbound routing key is no poison here: the alternate exchange keeps such events (and
    // confirms them). The poison is an event the broker refuses: its only queue is full and
    // rejects publishes, so the broker nacks it on every attempt.
    const refusing = uniqueName('relay-int.refusing');
    queues.push(refusing);
    const connection = await connect(amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(refusing, {
        durable: true,
        arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
      });
      await channel.bindQueue(refusing, exchange, 'poison.*');
    } finally {
      await connection.close();
    }
    const running = relay(new PostgresOutboxStore(dataSource), publisher, { maxAttempts: 3 });
    const poison = envelope('poison.unroutable', 'shared', 0);
    const behind = Array.from({ length: 20 }, (_, i) => envelope('good.happened', 'shared', i + 1));
    await commit([poison, ...behind]);
    await running.start();

    await waitFor(
      async () => {
        const state = await outboxState();
        return state.pending === 0 && state.dead === 1;
      },
      { timeoutMs: 10_000, description: 'the poison dead-lettered and the rest published' },
    );
    // While the poison was retried, the confirmed events behind it were held back (not marked)
    // and published again after each retry: duplicates in order, which the inbox absorbs.
    const firstArrivals = [...new Set(seen.map((e) => (e.envelope.data as { seq: number }).seq))];
    expect(firstArrivals).toEqual(behind.map((_, i) => i + 1));
    const rows = await dataSource.query<
      Array<{ attempts: number; last_error: string; dead: boolean; published_at: Date | null }>
    >(
      `SELECT attempts, last_error, dead_lettered_at IS NOT NULL AS dead, published_at
       FROM messaging.outbox WHERE event_id = $1`,
      [poison.id],
    );
    expect(rows[0]).toMatchObject({ attempts: 3, dead: true, published_at: null });
    expect(rows[0]!.last_error).toMatch(/^nacked/);
    expect(await outboxState()).toMatchObject({ pending: 0, dead: 1 });
  });

  it('(d) delivers the events of one subject in order', async () => {
    const seen = await consume(bus(), ['test.*']);
    const publisher = bus();
    await publisher.connect();
    const running = relay(new PostgresOutboxStore(dataSource), publisher, {
      batchSize: 40,
      window: 3,
    });
    await running.start();

    // Writers of one subject are serialized (as an aggregate lock would make them); different
    // subjects commit concurrently, one or a few events per transaction.
    const subjects = ['alpha', 'beta', 'gamma', 'delta'];
    const perSubject = 150;
    await Promise.all(
      subjects.map(async (subject) => {
        for (let seq = 0; seq < perSubject;) {
          const size = 1 + (seq % 3);
          const chunk = Array.from({ length: Math.min(size, perSubject - seq) }, (_, k) =>
            envelope('test.happened', subject, seq + k),
          );
          await commit(chunk);
          seq += chunk.length;
        }
      }),
    );
    await waitFor(() => seen.length >= subjects.length * perSubject, {
      timeoutMs: 20_000,
      description: 'every event',
    });
    for (const subject of subjects) {
      const order = seen
        .filter((e) => e.envelope.subject === subject)
        .map((e) => (e.envelope.data as { seq: number }).seq);
      expect(order).toEqual(Array.from({ length: perSubject }, (_, i) => i));
    }
  });

  it('(e) two relays share the work: every event published once, each subject in order', async () => {
    const consumerBus = bus();
    const seen = await consume(consumerBus, ['test.*', 'marker.*']);
    // A backlog first, so that both relays find work at once; then writers keep committing.
    const subjects = Array.from({ length: 40 }, (_, i) => `subject-${i}`);
    const perSubject = 15;
    const backlog = 5;
    for (let seq = 0; seq < backlog; seq++) {
      await commit(subjects.map((subject) => envelope('test.happened', subject, seq)));
    }
    // Which relay claims first is up to the scheduler; so that both certainly take part, the
    // first relay's later claims wait until the second has claimed rows of its own. The claims
    // themselves are the real leased SQL.
    let secondClaimed!: () => void;
    const secondHasClaimed = new Promise<void>((resolve) => (secondClaimed = resolve));
    class FirstStore extends PostgresOutboxStore {
      private claims = 0;
      override async claimBatch(limit: number) {
        if (this.claims++ > 0) await secondHasClaimed;
        return super.claimBatch(limit);
      }
    }
    class SecondStore extends PostgresOutboxStore {
      override async claimBatch(limit: number) {
        const rows = await super.claimBatch(limit);
        if (rows.length > 0) secondClaimed();
        return rows;
      }
    }
    const stores = [new FirstStore(dataSource), new SecondStore(dataSource)];
    const relays = await Promise.all(
      stores.map(async (store) => {
        const publisher = bus();
        await publisher.connect();
        return relay(store, publisher, { batchSize: 25, window: 3 });
      }),
    );
    await Promise.all(relays.map((r) => r.start()));
    await Promise.all(
      subjects.map(async (subject) => {
        for (let seq = backlog; seq < perSubject; seq++) {
          await commit([envelope('test.happened', subject, seq)]);
        }
      }),
    );
    const total = subjects.length * perSubject;
    await waitFor(async () => (await outboxState()).pending === 0, {
      timeoutMs: 20_000,
      description: 'every event marked published',
    });
    // Stopped relays have every message they published confirmed, hence queued; a marker
    // published after them arrives after all of them.
    await Promise.all(relays.map((r) => r.stop()));
    const [marker] = await consumerBus.publishBatch([
      {
        routingKey: 'marker.done',
        messageId: randomUUID(),
        body: Buffer.from(JSON.stringify(envelope('marker.done', 'marker', 0))),
      },
    ]);
    expect(marker?.ok).toBe(true);
    await waitFor(() => seen.some((e) => e.routingKey === 'marker.done'), {
      description: 'the marker behind every relayed event',
    });

    const relayed = seen.filter((e) => e.routingKey === 'test.happened');
    expect(relayed).toHaveLength(total);
    expect(new Set(relayed.map((e) => e.envelope.id)).size).toBe(total);
    for (const subject of subjects) {
      const order = relayed
        .filter((e) => e.envelope.subject === subject)
        .map((e) => (e.envelope.data as { seq: number }).seq);
      expect(order).toEqual(Array.from({ length: perSubject }, (_, i) => i));
    }
    const owners = await dataSource.query<Array<{ leased_by: string; n: number }>>(
      `SELECT leased_by, count(*)::int AS n FROM messaging.outbox GROUP BY leased_by`,
    );
    expect(owners.map((o) => o.leased_by).sort()).toEqual(stores.map((s) => s.owner).sort());
  });
});
