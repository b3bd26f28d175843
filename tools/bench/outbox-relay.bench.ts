/**
 * Outbox relay benchmark: raw confirm-publish rate, sustained relay throughput and
 * commit-to-consumer latency at a fixed offered rate, on a real PostgreSQL and RabbitMQ.
 *
 *   DATABASE_URL=postgres://... AMQP_URL=amqp://... \
 *     npm run bench:outbox
 *
 * Works in its own database and its own exchange and queues, and removes them at the end.
 * Sizes can be overridden: BENCH_RAW_MESSAGES, BENCH_EVENTS, BENCH_RATE, BENCH_LATENCY_SECONDS,
 * the relay's BENCH_WINDOW and BENCH_BATCH (default: the relay's own defaults), and
 * BENCH_QUEUE_TYPE (default quorum, as the bus declares). The raw figure publishes into the same
 * consumer queue the relay's events go to, so both measure the same topology. The relay's
 * claim / publish / mark phases are timed and printed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { type EventEnvelope, signEnvelope } from '@stratavore/contracts';
import { SystemClock } from '@stratavore/core';
import {
  consumerQueues,
  type ConsumerQueueType,
  createMessagingDataSource,
  type EventPublisher,
  OutboxListener,
  type OutboxStore,
  OutboxWriter,
  PostgresOutboxStore,
  RabbitMqBus,
} from '@stratavore/messaging';
import { OutboxRelay } from '@stratavore/outbox-relay';
import { runMigrations, withTransaction } from '@stratavore/persistence';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { type DataSource } from 'typeorm';

import { type BenchRow, percentile, printTable, verdictExitCode } from './support/bench-report';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const RAW_MESSAGES = Number(process.env.BENCH_RAW_MESSAGES ?? 20_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 30_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const RELAY_WINDOW = optionalNumber(process.env.BENCH_WINDOW);
const RELAY_BATCH = optionalNumber(process.env.BENCH_BATCH);
const QUEUE_TYPE: ConsumerQueueType =
  process.env.BENCH_QUEUE_TYPE === 'classic' ? 'classic' : 'quorum';
const DEADLINE_MS = 115_000;
const SIGNING_KEY = 'outbox-bench-key';

const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const databaseName = `bench_outbox_${suffix}`;
const exchange = `bench.outbox.${suffix}`;
const dlx = `bench.outbox.dlx.${suffix}`;
const unrouted = `bench.outbox.unrouted.${suffix}`;
const consumer = `bench-outbox-${suffix}`;

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

/** Wall time spent in each relay phase (summed over the workers, so phases can overlap). */
const phases = { claim: 0, claims: 0, publish: 0, mark: 0 };

async function timed<T>(phase: 'claim' | 'publish' | 'mark', work: Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work;
  } finally {
    phases[phase] += performance.now() - started;
  }
}

function profiledStore(store: PostgresOutboxStore): OutboxStore {
  return {
    claimBatch: (limit) => {
      phases.claims++;
      return timed('claim', store.claimBatch(limit));
    },
    markPublished: (positions) => timed('mark', store.markPublished(positions)),
    markFailed: (...args) => timed('mark', store.markFailed(...args)),
    release: (positions) => timed('mark', store.release(positions)),
    deadLetter: (...args) => timed('mark', store.deadLetter(...args)),
    backlog: () => store.backlog(),
    oldestUnpublishedAge: () => store.oldestUnpublishedAge(),
  };
}

function profiledPublisher(publisher: RabbitMqBus): EventPublisher {
  return {
    publishBatch: (messages, options) =>
      timed('publish', publisher.publishBatch(messages, options)),
  };
}

function databaseUrl(name: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function envelope(type: string, subject: string, data: Record<string, unknown>): EventEnvelope {
  return signEnvelope(
    {
      specversion: '1.0',
      id: randomUUID(),
      source: 'bench',
      type,
      dataversion: 1,
      time: new Date().toISOString(),
      subject,
      correlationId: randomUUID(),
      data: { ...data, note: 'x'.repeat(160) }, // about the size of a real event
    },
    SIGNING_KEY,
  );
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Figures {
  rawRate: number;
  drainRate: number;
  relayRate: number;
  deliveredRate: number;
  p50: number;
  p99: number;
  max: number;
  latencySamples: number;
}

async function main(): Promise<Figures> {
  const url = databaseUrl(databaseName);
  const buses: RabbitMqBus[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  let dataSource: DataSource | undefined;
  await admin(`CREATE DATABASE ${databaseName}`);
  try {
    dataSource = createMessagingDataSource({ url, poolSize: 12, applicationName: 'bench' });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const ds = dataSource;

    const makeBus = () => {
      const bus = new RabbitMqBus({
        url: AMQP_URL,
        exchange,
        deadLetterExchange: dlx,
        unroutedExchange: unrouted,
        queueType: QUEUE_TYPE,
        signingKey: SIGNING_KEY,
        serviceName: 'outbox-bench',
        catalog: null,
        publishTimeoutMs: 10_000,
        logger: {
          log: () => undefined,
          warn: (message) => console.warn(`bus: ${message}`),
          error: (message) => console.error(`bus: ${message}`),
        },
      });
      buses.push(bus);
      return bus;
    };

    // The consumer: counts arrivals and measures latency from the commit timestamp.
    const consumerBus = makeBus();
    await consumerBus.connect();
    // RabbitMqBus.connect() can resolve before its publisher channel is set up.
    await until('the consumer bus', () => consumerBus.isConnected(), 10_000);
    const arrivals = { raw: 0, drain: 0, sustained: 0, latency: 0 };
    const latencies: number[] = [];
    const subscription = await consumerBus.subscribe(
      { consumer, patterns: ['bench.*'], prefetch: 1_000 },
      ({ envelope: received, routingKey }) => {
        if (routingKey === 'bench.raw') arrivals.raw++;
        else if (routingKey === 'bench.drain') arrivals.drain++;
        else if (routingKey === 'bench.sustained') arrivals.sustained++;
        else {
          arrivals.latency++;
          const { committedAt } = received.data as { committedAt: number };
          latencies.push(performance.timeOrigin + performance.now() - committedAt);
        }
        return Promise.resolve('ack');
      },
    );
    stops.push(() => subscription.cancel());

    // (1) Raw confirm-publish rate: one publishBatch, no database.
    const publisher = makeBus();
    await publisher.connect();
    await until('the publisher bus', () => publisher.isConnected(), 10_000);
    const raw = Array.from({ length: RAW_MESSAGES }, (_, i) => {
      const e = envelope('bench.raw', `r${i % 100}`, { i });
      return { routingKey: e.type, messageId: e.id, body: Buffer.from(JSON.stringify(e)) };
    });
    const rawStart = performance.now();
    const outcomes = await publisher.publishBatch(raw, { timeoutMs: 30_000 });
    const rawSeconds = (performance.now() - rawStart) / 1000;
    const confirmed = outcomes.filter((o) => o.ok).length;
    if (confirmed !== RAW_MESSAGES) {
      throw new Error(
        `raw: only ${confirmed} confirmed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`,
      );
    }
    await until('raw arrivals', () => arrivals.raw >= RAW_MESSAGES, 30_000);

    // (2a) A backlog committed while no relay runs, drained once it starts: the relay's own
    // capacity, without writers competing for the same cores.
    const writer = new OutboxWriter();
    for (let i = 0; i < DRAIN_EVENTS; i += 500) {
      const batch = Array.from({ length: Math.min(500, DRAIN_EVENTS - i) }, (_, k) =>
        envelope('bench.drain', `d${(i + k) % 1_000}`, { i: i + k }),
      );
      await withTransaction(ds, (manager) => writer.append(manager, batch));
    }
    const unpublished = async () =>
      (
        await ds.query<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM messaging.outbox WHERE published_at IS NULL`,
        )
      )[0]!.n;

    // The relay, woken by LISTEN/NOTIFY.
    const listener = new OutboxListener({ url, applicationName: 'bench-listener' });
    const relay = new OutboxRelay({
      store: profiledStore(new PostgresOutboxStore(ds)),
      publisher: profiledPublisher(publisher),
      clock: new SystemClock(),
      wakeUps: listener,
      options: {
        ...(RELAY_BATCH === undefined ? {} : { batchSize: RELAY_BATCH }),
        ...(RELAY_WINDOW === undefined ? {} : { window: RELAY_WINDOW }),
        idlePollIntervalMs: 500,
        publishTimeoutMs: 10_000,
      },
    });
    const drainStart = performance.now();
    await relay.start();
    stops.push(() => relay.stop());
    await until('the backlog to drain', async () => (await unpublished()) === 0, 60_000);
    const drainSeconds = (performance.now() - drainStart) / 1000;
    await until('drain arrivals', () => arrivals.drain >= DRAIN_EVENTS, 30_000);
    console.log(
      `backlog: ${DRAIN_EVENTS} events drained in ${drainSeconds.toFixed(2)} s; relay phases so far: ${phases.claims} claims ${(phases.claim / 1000).toFixed(2)} s, publish ${(phases.publish / 1000).toFixed(2)} s, mark ${(phases.mark / 1000).toFixed(2)} s`,
    );

    // (2b) Sustained throughput: EVENTS in transactions of 50 by 4 writers while the relay drains.
    const perTx = 50;
    let nextTx = 0;
    const transactions = Math.ceil(EVENTS / perTx);
    const sustainedStart = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let tx = nextTx++; tx < transactions; tx = nextTx++) {
          const batch = Array.from({ length: Math.min(perTx, EVENTS - tx * perTx) }, (_, k) =>
            envelope('bench.sustained', `s${(tx * perTx + k) % 1_000}`, { tx, k }),
          );
          await withTransaction(ds, (manager) => writer.append(manager, batch));
        }
      }),
    );
    const insertSeconds = (performance.now() - sustainedStart) / 1000;
    await until('the relay to drain', async () => (await unpublished()) === 0, 60_000);
    const relaySeconds = (performance.now() - sustainedStart) / 1000;
    await until('sustained arrivals', () => arrivals.sustained >= EVENTS, 60_000);
    const deliveredSeconds = (performance.now() - sustainedStart) / 1000;
    console.log(
      `sustained: ${EVENTS} events inserted in ${insertSeconds.toFixed(2)} s, relayed in ${relaySeconds.toFixed(2)} s, consumed in ${deliveredSeconds.toFixed(2)} s`,
    );
    console.log(
      `relay phases (summed over workers): ${phases.claims} claims ${(phases.claim / 1000).toFixed(2)} s, publish ${(phases.publish / 1000).toFixed(2)} s, mark ${(phases.mark / 1000).toFixed(2)} s`,
    );

    // (3) Latency at a fixed offered rate: every 5 ms commit what is due, stamped at commit.
    const total = RATE * LATENCY_SECONDS;
    let offered = 0;
    let inFlight = 0;
    const latencyStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - latencyStart) / 1000) * RATE));
        if (offered >= total && inFlight === 0) {
          clearInterval(tick);
          resolve();
          return;
        }
        if (due <= offered || inFlight >= 4) return;
        const count = due - offered;
        const first = offered;
        offered = due;
        inFlight++;
        withTransaction(ds, (manager) => {
          const committedAt = performance.timeOrigin + performance.now();
          const batch = Array.from({ length: count }, (_, k) =>
            envelope('bench.latency', `l${(first + k) % 500}`, { committedAt }),
          );
          return writer.append(manager, batch);
        })
          .then(() => inFlight--)
          .catch((error: unknown) => {
            clearInterval(tick);
            reject(error instanceof Error ? error : new Error(String(error)));
          });
      }, 5);
    });
    await until('latency arrivals', () => arrivals.latency >= total, 30_000);
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      rawRate: RAW_MESSAGES / rawSeconds,
      drainRate: DRAIN_EVENTS / drainSeconds,
      relayRate: EVENTS / relaySeconds,
      deliveredRate: EVENTS / deliveredSeconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      latencySamples: sorted.length,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    for (const bus of buses) await bus.close().catch(() => undefined);
    await dataSource?.destroy().catch(() => undefined);
    await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => undefined);
    const connection = await connect(AMQP_URL);
    for (const name of Object.values(consumerQueues(consumer))) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const name of [unrouted]) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const name of [exchange, dlx, unrouted]) {
      const channel = await connection.createChannel();
      await channel.deleteExchange(name).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    await connection.close();
  }
}

const watchdog = setTimeout(() => {
  console.error(`outbox-relay bench: exceeded ${DEADLINE_MS / 1000} s, aborting`);
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();

const started = performance.now();
main()
  .then((f) => {
    const rows: BenchRow[] = [
      {
        measure: 'raw confirm-publish (no DB)',
        figure: `${Math.round(f.rawRate).toLocaleString('en')} msg/s`,
      },
      {
        measure: 'relay backlog drain (claimed -> marked)',
        figure: `${Math.round(f.drainRate).toLocaleString('en')} ev/s`,
      },
      {
        measure: 'relay sustained (committed -> marked)',
        figure: `${Math.round(f.relayRate).toLocaleString('en')} ev/s`,
        target: '>= 10,000 ev/s',
        pass: f.relayRate >= 10_000,
      },
      {
        measure: 'relay sustained (committed -> consumed)',
        figure: `${Math.round(f.deliveredRate).toLocaleString('en')} ev/s`,
      },
      {
        measure: `latency p50 @ ${RATE}/s (${f.latencySamples} ev)`,
        figure: `${f.p50.toFixed(1)} ms`,
      },
      {
        measure: `latency p99 @ ${RATE}/s`,
        figure: `${f.p99.toFixed(1)} ms`,
        target: '< 50 ms',
        pass: f.p99 < 50,
      },
      { measure: `latency max @ ${RATE}/s`, figure: `${f.max.toFixed(1)} ms` },
    ];
    const missed = printTable(
      `outbox relay bench, ${QUEUE_TYPE} consumer queue, window ${RELAY_WINDOW ?? 'default'} x batch ${RELAY_BATCH ?? 'default'} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      rows,
    );
    process.exit(verdictExitCode(missed));
  })
  .catch((error: unknown) => {
    console.error('outbox-relay bench failed:', error);
    process.exit(2);
  });
