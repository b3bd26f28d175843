/**
 * Outbox relay benchmark on a real PostgreSQL and RabbitMQ: raw confirm-publish rate, the
 * relay's backlog drain and sustained rates, and commit-to-consumer latency at a fixed offered
 * rate, each with the CPU it cost (relay, writers, consumer, PostgreSQL, RabbitMQ) per event
 * and PostgreSQL's commits per event.
 *
 *   DATABASE_URL=postgres://... AMQP_URL=amqp://... \
 *     npm run bench:outbox
 *
 * The relay runs in this process exactly as `apps/outbox-relay` composes it (PostgresOutboxStore,
 * RabbitMqBus, OutboxListener); the writers (signed events committed through OutboxWriter, as
 * a service does) and the consumer (a RabbitMqBus subscription checking every envelope's
 * signature) run in two child processes (support/outbox-bench-worker.ts), so neither shares the
 * relay's event loop. Works in its own database, exchange and queues, and removes them at the
 * end, also when it fails or overruns its deadline.
 *
 * Knobs: BENCH_RAW_MESSAGES (20,000), BENCH_DRAIN_EVENTS (30,000), BENCH_EVENTS (50,000),
 * BENCH_RATE (1,000/s), BENCH_LATENCY_SECONDS (10, after 2 s of warm-up), BENCH_SUBJECTS (1,000
 * subjects the events cycle through), the relay's BENCH_WINDOW and BENCH_BATCH (default: the
 * relay's own defaults), BENCH_QUEUE_TYPE (quorum, as the bus declares), BENCH_PROFILE=1 (a CPU
 * profile of the relay over the sustained run; BENCH_PROFILE_DIR keeps it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { signEnvelope } from '@stratavore/contracts';
import { SystemClock } from '@stratavore/core';
import {
  consumerQueues,
  type ConsumerQueueType,
  createMessagingDataSource,
  type EventPublisher,
  OutboxListener,
  type OutboxStore,
  PostgresOutboxStore,
  RabbitMqBus,
} from '@stratavore/messaging';
import { OutboxRelay, type OutboxRelayMetrics } from '@stratavore/outbox-relay';
import { runMigrations } from '@stratavore/persistence';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { type DataSource } from 'typeorm';

import { type BenchRow, ms, perSecond, printTable, runBench } from './support/bench-report';
import { cpuLine, cpuMsOf, type CpuReport, startCpuMeter } from './support/cpu-meter';
import {
  profilingRequested,
  saveProfile,
  startInProcessProfile,
  summarizeProfile,
} from './support/cpu-profile';
import {
  countersLine,
  countersPer,
  type DatabaseCounters,
  readDatabaseCounters,
} from './support/database-stats';
import {
  killOutboxBenchWorkers,
  type OutboxBenchWorker,
  startOutboxBenchWorker,
} from './support/outbox-bench-worker';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const RAW_MESSAGES = Number(process.env.BENCH_RAW_MESSAGES ?? 20_000);
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 30_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 1_000);
const RELAY_WINDOW = optionalNumber(process.env.BENCH_WINDOW);
const RELAY_BATCH = optionalNumber(process.env.BENCH_BATCH);
const QUEUE_TYPE: ConsumerQueueType =
  process.env.BENCH_QUEUE_TYPE === 'classic' ? 'classic' : 'quorum';
const DEADLINE_MS = 150_000;
const TARGET_RATE = 10_000;
const TARGET_P99_MS = 50;
const SIGNING_KEY = `outbox-bench-${randomBytes(8).toString('hex')}`;

const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const databaseName = `bench_outbox_${suffix}`;
const exchange = `bench.outbox.${suffix}`;
const dlx = `bench.outbox.dlx.${suffix}`;
const unrouted = `bench.outbox.unrouted.${suffix}`;
const consumer = `bench-outbox-${suffix}`;

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** RabbitMQ's Erlang VM (`beam.smp`), to account its CPU separately. */
function brokerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'beam.smp') pids.push(+entry);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What the relay did: wall time per phase (summed over overlapping batches) and store calls. */
const relayStats = {
  claims: 0,
  claimed: 0,
  claimMs: 0,
  publishes: 0,
  publishMs: 0,
  marks: 0,
  markMs: 0,
  marked: 0,
};
const markWaiters = new Set<() => void>();

async function timed<T>(add: (ms: number) => void, work: Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work;
  } finally {
    add(performance.now() - started);
  }
}

function instrumentedStore(store: PostgresOutboxStore): OutboxStore {
  const mark = <T>(work: Promise<T>) => {
    relayStats.marks++;
    return timed((t) => (relayStats.markMs += t), work);
  };
  return {
    claimBatch: async (limit) => {
      relayStats.claims++;
      const rows = await timed((t) => (relayStats.claimMs += t), store.claimBatch(limit));
      relayStats.claimed += rows.length;
      return rows;
    },
    markPublished: (positions) => mark(store.markPublished(positions)),
    markFailed: (...args) => mark(store.markFailed(...args)),
    release: (positions) => mark(store.release(positions)),
    deadLetter: (...args) => mark(store.deadLetter(...args)),
    backlog: () => store.backlog(),
    oldestUnpublishedAge: () => store.oldestUnpublishedAge(),
  };
}

function instrumentedPublisher(publisher: EventPublisher): EventPublisher {
  return {
    publishBatch: (messages, options) => {
      relayStats.publishes++;
      return timed((t) => (relayStats.publishMs += t), publisher.publishBatch(messages, options));
    },
  };
}

/** Counts what the relay marked published, so phases end without polling the database. */
const countingMetrics: OutboxRelayMetrics = {
  published: (count) => {
    relayStats.marked += count;
    for (const wake of [...markWaiters]) wake();
  },
  failed: (reason, count) => console.warn(`relay: ${count} publish failure(s): ${reason}`),
  deadLettered: () => undefined,
  batchCompleted: () => undefined,
  trackBacklog: () => undefined,
};

function marked(total: number, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const check = () => {
      if (relayStats.marked < total) return;
      clearTimeout(timer);
      markWaiters.delete(check);
      resolve(performance.now());
    };
    const timer = setTimeout(() => {
      markWaiters.delete(check);
      reject(new Error(`timed out: the relay marked ${relayStats.marked} of ${total} events`));
    }, timeoutMs);
    markWaiters.add(check);
    check();
  });
}

interface MeasuredWindow {
  readonly cpu: CpuReport;
  readonly db: DatabaseCounters;
  readonly relay: typeof relayStats;
}

/** Measures CPU, database counters and relay calls from now until `stop()`. */
async function startWindow(groups: () => ReadonlyArray<{ name: string; pids: number[] }>) {
  const db = await readDatabaseCounters(SERVER_URL, databaseName);
  const relay = { ...relayStats };
  const meter = startCpuMeter(groups);
  return {
    async stop(events: number): Promise<MeasuredWindow> {
      const cpu = meter.stop();
      const after = await readDatabaseCounters(SERVER_URL, databaseName);
      const used = Object.fromEntries(
        Object.entries(relayStats).map(([k, v]) => [k, v - relay[k as keyof typeof relay]]),
      ) as typeof relayStats;
      return { cpu, db: countersPer(db, after, events), relay: used };
    },
  };
}

function printWindow(
  label: string,
  events: number,
  w: MeasuredWindow,
  writerTransactions: number,
): void {
  const perEvent = (name: string) => {
    const cpuMs = cpuMsOf(w.cpu, name);
    return Number.isFinite(cpuMs) ? `${name} ${((cpuMs * 1000) / events).toFixed(0)} us` : null;
  };
  const postgres = (w.cpu.postgresPercent / 100) * w.cpu.seconds * 1e6;
  console.log(`  ${label}: ${cpuLine(w.cpu)}`);
  const parts = ['relay', 'writer', 'consumer'].map(perEvent).filter((p) => p !== null);
  parts.push(`postgres ${(postgres / events).toFixed(0)} us`, perEvent('rabbitmq')!);
  console.log(`    CPU per event: ${parts.join(', ')}`);
  if (w.relay.claims === 0) return;
  const relayCommits = w.relay.claims + w.relay.marks;
  console.log(
    `    commits per 1,000 events: ${(w.db.commits * 1000).toFixed(1)} in the database (pg_stat_database), of which the relay ${((relayCommits / events) * 1000).toFixed(1)} (${w.relay.claims} claims, ${w.relay.marks} marks) and the writers ${((writerTransactions / events) * 1000).toFixed(1)}; ${countersLine(w.db, 'event').replace(/^database per event: [^,]+, /, 'rows per event: ')}`,
  );
  console.log(
    `    relay: ${w.relay.claimed} rows in ${w.relay.claims} claims (${(w.relay.claimed / w.relay.claims).toFixed(0)} per claim, ${(w.relay.claimMs / w.relay.claims).toFixed(1)} ms each), ${w.relay.publishes} batches published (${(w.relay.publishMs / Math.max(1, w.relay.publishes)).toFixed(1)} ms each to all confirms), ${w.relay.marks} marks (${(w.relay.markMs / Math.max(1, w.relay.marks)).toFixed(1)} ms each)`,
  );
}

const cleanups: Array<() => Promise<unknown>> = [];

async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  killOutboxBenchWorkers();
}

async function main(): Promise<number> {
  const url = databaseUrl(databaseName);
  await admin(`CREATE DATABASE ${databaseName}`);
  cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
  cleanups.push(() => deleteBrokerObjects());
  let dataSource: DataSource | undefined;
  try {
    dataSource = createMessagingDataSource({ url, poolSize: 6, applicationName: 'outbox-relay' });
    await dataSource.initialize();
    const ds = dataSource;
    cleanups.push(() => ds.destroy());
    await runMigrations(ds);

    const consumerWorker = await startOutboxBenchWorker({
      role: 'consumer',
      amqpUrl: AMQP_URL,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      queueType: QUEUE_TYPE,
      consumer,
      signingKey: SIGNING_KEY,
    });
    cleanups.push(() => consumerWorker.stop());
    const writer = await startOutboxBenchWorker({
      role: 'writer',
      databaseUrl: url,
      signingKey: SIGNING_KEY,
    });
    cleanups.push(() => writer.stop());
    const groups =
      (workers: { writer?: OutboxBenchWorker; consumer?: OutboxBenchWorker }) => () => [
        { name: 'relay', pids: [process.pid] },
        ...(workers.writer ? [{ name: 'writer', pids: [workers.writer.pid] }] : []),
        ...(workers.consumer ? [{ name: 'consumer', pids: [workers.consumer.pid] }] : []),
        { name: 'rabbitmq', pids: brokerPids() },
      ];

    const bus = new RabbitMqBus({
      url: AMQP_URL,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      queueType: QUEUE_TYPE,
      signingKey: SIGNING_KEY,
      serviceName: 'outbox-relay',
      catalog: null,
      logger: {
        log: () => undefined,
        warn: (message) => console.warn(`relay bus: ${message}`),
        error: (message) => console.error(`relay bus: ${message}`),
      },
    });
    await bus.connect();
    cleanups.push(() => bus.close());

    // (1) Raw confirm-publish rate: one publishBatch from this process, no database.
    const raw = Array.from({ length: RAW_MESSAGES }, (_, i) => {
      const e = signEnvelope(
        {
          specversion: '1.0',
          id: randomUUID(),
          source: 'bench',
          type: 'bench.raw',
          dataversion: 1,
          time: new Date().toISOString(),
          subject: `r${i % 100}`,
          correlationId: randomUUID(),
          data: { i, note: 'x'.repeat(160) },
        },
        SIGNING_KEY,
      );
      return { routingKey: e.type, messageId: e.id, body: Buffer.from(JSON.stringify(e)) };
    });
    const rawWindow = await startWindow(groups({ consumer: consumerWorker }));
    const rawStart = performance.now();
    const outcomes = await bus.publishBatch(raw, { timeoutMs: 60_000 });
    const rawSeconds = (performance.now() - rawStart) / 1000;
    const confirmed = outcomes.filter((o) => o.ok).length;
    if (confirmed !== RAW_MESSAGES) {
      throw new Error(
        `raw: ${confirmed} confirmed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`,
      );
    }
    await consumerWorker.arrivals('bench.raw', RAW_MESSAGES, 60_000);
    const rawMeasured = await rawWindow.stop(RAW_MESSAGES);
    console.log(
      `raw: ${RAW_MESSAGES} messages confirmed in ${rawSeconds.toFixed(2)} s (${perSecond(RAW_MESSAGES / rawSeconds, ' msg/s')})`,
    );
    printWindow('raw publish and consume', RAW_MESSAGES, rawMeasured, 0);

    // (2a) A backlog committed while no relay runs, drained once it starts: the relay's own
    // capacity, without writers competing for the cores.
    const backlog = await writer.write({
      kind: 'backlog',
      type: 'bench.drain',
      events: DRAIN_EVENTS,
      perTx: 500,
      subjects: SUBJECTS,
    });
    const store = new PostgresOutboxStore(ds);
    const listener = new OutboxListener({ url, applicationName: 'outbox-relay-listener' });
    const relay = new OutboxRelay({
      store: instrumentedStore(store),
      publisher: instrumentedPublisher(bus),
      clock: new SystemClock(),
      wakeUps: listener,
      metrics: countingMetrics,
      options: {
        ...(RELAY_BATCH === undefined ? {} : { batchSize: RELAY_BATCH }),
        ...(RELAY_WINDOW === undefined ? {} : { window: RELAY_WINDOW }),
      },
      logger: {
        warn: (message) => console.warn(`relay: ${message}`),
        error: (message) => console.error(`relay: ${message}`),
      },
    });
    const drainWindow = await startWindow(groups({ consumer: consumerWorker }));
    const drainStart = performance.now();
    await relay.start();
    cleanups.push(() => relay.stop());
    const drainEnd = await marked(DRAIN_EVENTS, 60_000);
    const drainSeconds = (drainEnd - drainStart) / 1000;
    await consumerWorker.arrivals('bench.drain', DRAIN_EVENTS, 60_000);
    const drainMeasured = await drainWindow.stop(DRAIN_EVENTS);
    console.log(
      `backlog: ${DRAIN_EVENTS} events (committed in ${backlog.transactions} transactions beforehand) drained in ${drainSeconds.toFixed(2)} s`,
    );
    printWindow('backlog drain and consume', DRAIN_EVENTS, drainMeasured, 0);

    // (2b) Sustained: EVENTS committed by 4 concurrent writers in transactions of 50 while the
    // relay drains them.
    // Signed ahead: signing is the producing service's work, not the pipeline's.
    await writer.write({
      kind: 'prepare',
      type: 'bench.sustained',
      events: EVENTS,
      subjects: SUBJECTS,
    });
    const markedBefore = relayStats.marked;
    const profile = profilingRequested ? await startInProcessProfile() : null;
    const sustainedWindow = await startWindow(groups({ writer, consumer: consumerWorker }));
    const sustainedStart = performance.now();
    const [burst, sustainedEnd] = await Promise.all([
      writer.write({
        kind: 'burst',
        type: 'bench.sustained',
        events: EVENTS,
        perTx: 50,
        writers: 4,
        subjects: SUBJECTS,
      }),
      marked(markedBefore + EVENTS, 90_000),
    ]);
    const relaySeconds = (sustainedEnd - sustainedStart) / 1000;
    const consumedAt = await consumerWorker.arrivals('bench.sustained', EVENTS, 60_000);
    const consumedSeconds = (consumedAt - (performance.timeOrigin + sustainedStart)) / 1000;
    const sustainedMeasured = await sustainedWindow.stop(EVENTS);
    const profiled = await profile?.stop();
    console.log(
      `sustained: ${EVENTS} events committed in ${burst.seconds.toFixed(2)} s (${perSecond(EVENTS / burst.seconds, ' ev/s')}), relayed (marked) in ${relaySeconds.toFixed(2)} s (the last one ${Math.max(0, (relaySeconds - burst.seconds) * 1000).toFixed(0)} ms after the last commit), consumed in ${consumedSeconds.toFixed(2)} s`,
    );
    printWindow(
      'sustained write, relay and consume',
      EVENTS,
      sustainedMeasured,
      burst.transactions,
    );
    if (profiled) {
      const saved = saveProfile(profiled, 'outbox-relay');
      console.log(
        `  CPU profile of the relay over the sustained run${saved ? `, saved to ${saved}` : ''}:`,
      );
      for (const line of summarizeProfile(profiled)) console.log(`  ${line}`);
    }

    // (3) Latency at a fixed offered rate, open loop, stamped just before each insert.
    const latencyWindow = await startWindow(groups({ writer, consumer: consumerWorker }));
    const paced = await writer.write({
      kind: 'paced',
      type: 'bench.latency',
      rate: RATE,
      seconds: LATENCY_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      subjects: 500,
    });
    const measuredEvents = Math.round(RATE * LATENCY_SECONDS);
    await consumerWorker.arrivals('bench.latency', measuredEvents, 30_000);
    const latencyMeasured = await latencyWindow.stop(paced.events);
    const latency = await consumerWorker.latency('bench.latency');
    console.log(
      `latency: ${paced.events} events in ${paced.transactions} transactions at ${RATE}/s (${WARMUP_SECONDS} s warm-up not counted): p50 ${ms(latency.p50)}, p90 ${ms(latency.p90)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)} (n=${latency.count})`,
    );
    printWindow(`paced at ${RATE}/s`, paced.events, latencyMeasured, paced.transactions);

    const sustainedRate = EVENTS / relaySeconds;
    const rows: BenchRow[] = [
      {
        measure: 'raw confirm-publish (no DB)',
        figure: perSecond(RAW_MESSAGES / rawSeconds, ' msg/s'),
      },
      {
        measure: 'relay backlog drain (claimed -> marked)',
        figure: perSecond(DRAIN_EVENTS / drainSeconds, ' ev/s'),
      },
      {
        measure: 'relay sustained (committed -> marked)',
        figure: perSecond(sustainedRate, ' ev/s'),
        target: `>= ${TARGET_RATE.toLocaleString('en')} ev/s`,
        pass: sustainedRate >= TARGET_RATE,
      },
      {
        measure: 'relay sustained (committed -> consumed)',
        figure: perSecond(EVENTS / consumedSeconds, ' ev/s'),
      },
      {
        measure: 'relay CPU per event (sustained)',
        figure: `${((cpuMsOf(sustainedMeasured.cpu, 'relay') * 1000) / EVENTS).toFixed(0)} us`,
      },
      { measure: `latency p50 @ ${RATE}/s (${latency.count} ev)`, figure: ms(latency.p50) },
      {
        measure: `latency p99 @ ${RATE}/s`,
        figure: ms(latency.p99),
        target: `< ${TARGET_P99_MS} ms`,
        pass: latency.p99 < TARGET_P99_MS,
      },
      { measure: `latency max @ ${RATE}/s`, figure: ms(latency.max) },
    ];
    return printTable(
      `outbox relay bench, ${QUEUE_TYPE} consumer queue, window ${RELAY_WINDOW ?? 'default'} x batch ${RELAY_BATCH ?? 'default'}, ${SUBJECTS} subjects`,
      rows,
    );
  } finally {
    await cleanup();
  }
}

async function deleteBrokerObjects(): Promise<void> {
  const connection = await connect(AMQP_URL);
  try {
    for (const name of [...Object.values(consumerQueues(consumer)), unrouted]) {
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
}

runBench({ name: 'outbox-relay', deadlineMs: DEADLINE_MS, main, onAbort: cleanup });
