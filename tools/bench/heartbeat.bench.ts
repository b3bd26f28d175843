/**
 * Heartbeat ingest benchmark: `POST /api/v1/heartbeat` latency at a fixed offered rate (open
 * loop, target p99 < 10 ms at 2,000/s) and the maximum sustainable rate (closed loop).
 *
 *   DATABASE_URL=postgres://... npm run bench -- heartbeat
 *
 * The server is heartbeat-ingest as its app composes it (the service runtime with /health and
 * /metrics, HeartbeatIngestModule configured from the environment like the app: flush interval,
 * batch size, ...), on real PostgreSQL (a fresh database on DATABASE_URL's server, dropped at the
 * end) and the in-process bus instead of RabbitMQ: the bus only carries the registry's
 * `runner.launched` events, which are published before the measurement. The runners are
 * registered the way runner-manager registers them: one signed `runner.launched` per runner
 * with its token hash. The load comes from a separate process (load-worker.ts) over keep-alive
 * connections; each request is a real heartbeat of one of the runners, round-robin, with a
 * growing seq and fresh sentAt.
 *
 * Phases: (0) the registration burst, every runner's first heartbeat at the offered rate on the
 * cold server, reported on its own, then a wait until the server has booked all of them; (1) the
 * open loop, a warm-up then the measured window, every heartbeat a steady one; (2) the closed loop.
 *
 * Knobs: BENCH_RUNNERS (2,000), BENCH_RATE (2,000/s), BENCH_WARMUP_SECONDS (3),
 * BENCH_SECONDS (10), BENCH_CONCURRENCY (64, closed loop), BENCH_USAGE=1 (every heartbeat
 * books usage), BENCH_PROFILE=1 (CPU profile of the server over the open-loop run, its warm-up
 * included, the burst not), LOG_LEVEL (warn), and heartbeat-ingest's own variables.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import { Module } from '@nestjs/common';
import { buildEnvelope } from '@stratavore/contracts';
import { RandomIdGenerator, SystemClock } from '@stratavore/core';
import {
  hashRunnerToken,
  heartbeatIngestConfigSchema,
  HeartbeatIngestModule,
  heartbeatIngestOptionsFromEnv,
} from '@stratavore/heartbeat-ingest';
import { InProcessBus } from '@stratavore/messaging';
import { createLogger } from '@stratavore/observability';
import {
  bootstrapService,
  type RunningService,
  ServiceRuntimeModule,
} from '@stratavore/service-runtime';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import {
  type BenchRow,
  latencyLine,
  ms,
  perSecond,
  printTable,
  runBench,
} from './support/bench-report';
import { cpuLine, cpuMsOf, startCpuMeter } from './support/cpu-meter';
import {
  profilingRequested,
  saveProfile,
  startInProcessProfile,
  summarizeProfile,
} from './support/cpu-profile';
import { countersLine, countersPer, readDatabaseCounters } from './support/database-stats';
import { type LoadResult, runLoad, settle, stopLoadGenerators } from './support/load-generator';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUNNERS = Number(process.env.BENCH_RUNNERS ?? 2_000);
const RATE = Number(process.env.BENCH_RATE ?? 2_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3) * 1000;
const WINDOW_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const TARGET_P99_MS = 10;
const SIGNING_KEY = `heartbeat-bench-${randomBytes(8).toString('hex')}`;

const cleanups: Array<() => Promise<unknown>> = [];

async function cleanup(): Promise<void> {
  stopLoadGenerators();
  for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
}

interface Registered {
  readonly runnerId: string;
  readonly token: string;
}

/** `runner.launched` per runner, as runner-manager writes it, published on the bus. */
async function registerRunners(bus: InProcessBus, count: number): Promise<Registered[]> {
  const deps = { clock: new SystemClock(), ids: new RandomIdGenerator(), signingKey: SIGNING_KEY };
  const projectId = randomUUID();
  const runners = Array.from({ length: count }, () => ({
    runnerId: randomUUID(),
    token: randomBytes(32).toString('base64url'),
  }));
  for (let i = 0; i < runners.length; i += 500) {
    const messages = runners.slice(i, i + 500).map(({ runnerId, token }) => {
      const envelope = buildEnvelope(
        {
          type: 'runner.launched',
          version: 1,
          source: 'runner-manager',
          subject: runnerId,
          correlationId: randomUUID(),
          data: {
            runnerId,
            projectId,
            agentCommand: 'sleep 3600',
            mode: 'headless',
            launcher: 'local',
            tokenHash: hashRunnerToken(token),
            heartbeatIntervalMs: 10_000,
          },
        },
        deps,
      );
      return {
        routingKey: envelope.type,
        messageId: envelope.id,
        body: Buffer.from(JSON.stringify(envelope)),
      };
    });
    const outcomes = await bus.publishBatch(messages);
    if (outcomes.some((o) => !o.ok)) throw new Error('publishing runner.launched failed');
  }
  return runners;
}

/**
 * `BENCH_USAGE=1`: every heartbeat reports one more input token, so each books usage (a
 * `usage.reported` event in the outbox), like a working agent's; by default the counters stay
 * put and only a runner's first heartbeat emits events.
 */
const USAGE = process.env.BENCH_USAGE === '1';

function heartbeatBody(runnerId: string): string {
  return JSON.stringify({
    runnerId,
    seq: '__SEQ__',
    sentAt: '__SENT_AT__',
    status: 'running',
    pid: 4242,
    cpuPercent: 1.5,
    memoryBytes: 104_857_600,
    agentVersion: '0.1.0',
    sessionId: null,
    counters: {
      inputTokens: USAGE ? '__SEQ__' : 10,
      outputTokens: 5,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    },
  });
}

/**
 * `name{labels} value` lines of the server's /metrics: sum of the series named exactly, only
 * those whose labels contain `labels` (`result="cached"`) when given.
 */
function metricSum(text: string, name: string, labels = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      if (labels && !line.slice(name.length, line.lastIndexOf(' ')).includes(labels)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** The server runs in this process: its CPU, with PostgreSQL's and the rest of the machine's. */
function meterServer() {
  return startCpuMeter(() => [{ name: 'server (Node)', pids: [process.pid] }]);
}

function errorsText(result: LoadResult): string {
  const entries = Object.entries(result.errors);
  return entries.length === 0 ? '0' : entries.map(([k, v]) => `${v} ${k}`).join(', ');
}

async function main(): Promise<number> {
  const started = performance.now();
  // The detector still scans every STALE_CHECK_INTERVAL, but with a long grace it fails no
  // runner that registration on a slow machine left silent past its start timeout.
  const config = heartbeatIngestConfigSchema.parse({ STALE_GRACE: '10m', ...process.env });
  const db: TestDatabase = await createTestDatabase('bench_heartbeat', SERVER_URL);
  cleanups.push(() => db.drop());
  const logger = createLogger({
    level: (process.env.LOG_LEVEL as 'warn' | undefined) ?? 'warn',
    service: 'heartbeat-ingest',
  });
  const bus = new InProcessBus({ signingKey: SIGNING_KEY });

  @Module({
    imports: [
      ServiceRuntimeModule.forRoot({
        service: 'heartbeat-ingest',
        databaseUrl: db.url,
        bus,
        logger,
      }),
      HeartbeatIngestModule.forRoot(heartbeatIngestOptionsFromEnv(db.url, SIGNING_KEY, config)),
    ],
  })
  class HeartbeatBenchModule {}

  const service: RunningService = await bootstrapService({
    service: 'heartbeat-ingest',
    module: HeartbeatBenchModule,
    logger,
    host: '127.0.0.1',
    port: 0,
  });
  cleanups.push(() => service.stop());

  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const registerStart = performance.now();
  const runners = await registerRunners(bus, RUNNERS);
  await waitFor(
    async () =>
      (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM heartbeat.runners')).rows[0]!
        .n >= RUNNERS,
    { timeoutMs: 180_000, intervalMs: 200, description: `${RUNNERS} runners to be registered` },
  );
  console.log(
    `registered ${RUNNERS} runners through runner.launched in ${((performance.now() - registerStart) / 1000).toFixed(1)} s; server at ${service.url}`,
  );

  const targets = runners.map(({ runnerId, token }) => ({
    method: 'POST' as const,
    path: '/api/v1/heartbeat',
    headers: { authorization: `Bearer ${token}` },
    body: heartbeatBody(runnerId),
  }));
  // (0) The registration burst: every runner's first heartbeat, at the target rate (one second
  // for 2,000 runners), on a cold server (JIT, connections). A first heartbeat costs more than
  // a steady one (its flush writes `heartbeat.first-received` and a session event, signed), and
  // a fleet sends them all at once only when it starts together, so it is measured on its own
  // and the server is left to book it before the fixed-rate window starts.
  const burstCpu = meterServer();
  const burst = await runLoad({
    baseUrl: service.url,
    targets,
    load: { rate: RATE },
    warmupMs: 0,
    durationMs: Math.ceil((RUNNERS / RATE) * 1000),
  });
  const burstAnsweredMs = performance.now();
  await waitFor(
    async () =>
      (
        await sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM heartbeat.runners WHERE started_at IS NOT NULL',
        )
      ).rows[0]!.n >= RUNNERS,
    { timeoutMs: 120_000, intervalMs: 50, description: 'every first heartbeat to be booked' },
  );
  const burstBookedMs = performance.now() - burstAnsweredMs;
  const burstCpuReport = burstCpu.stop([
    { name: 'load generator', percent: burst.generatorCpuPercent },
  ]);
  console.log(
    `registration burst (every runner's first heartbeat, ${RUNNERS} at ${RATE}/s): ${latencyLine(burst.latency)} from the due time, errors ${errorsText(burst)}; all booked ${(burstBookedMs / 1000).toFixed(1)} s after the last answer; server CPU ${(cpuMsOf(burstCpuReport, 'server (Node)') / Math.max(1, burst.answered)).toFixed(3)} ms per first heartbeat (booking included)`,
  );
  console.log(`  ${cpuLine(burstCpuReport)}`);

  const metricsBefore = await (await fetch(`${service.url}/metrics`)).text();

  // (1) Open loop at the target rate, seqs following the burst's.
  const countersBefore = await readDatabaseCounters(SERVER_URL, db.name);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const cpu = meterServer();
  const profile = profilingRequested ? await startInProcessProfile() : null;
  setTimeout(() => loop.enable(), WARMUP_MS).unref();
  const open = await runLoad({
    baseUrl: service.url,
    targets,
    load: { rate: RATE },
    warmupMs: WARMUP_MS,
    durationMs: WINDOW_MS,
    seqStart: 2,
  });
  loop.disable();
  const cpuReport = cpu.stop([{ name: 'load generator', percent: open.generatorCpuPercent }]);
  const profiled = await profile?.stop();
  const perHeartbeat = countersPer(
    countersBefore,
    await readDatabaseCounters(SERVER_URL, db.name),
    Math.max(1, open.answered),
  );
  const metricsAfter = await (await fetch(`${service.url}/metrics`)).text();
  const delta = (name: string) => metricSum(metricsAfter, name) - metricSum(metricsBefore, name);
  const flushes = delta('stratavore_heartbeat_flush_duration_seconds_count');
  const flushSeconds = delta('stratavore_heartbeat_flush_duration_seconds_sum');
  const flushed = delta('stratavore_heartbeat_flush_size_sum');
  console.log(
    `open loop @ ${RATE}/s: ${latencyLine(open.latency)} from the due time; service time ${latencyLine(open.serviceLatency)}`,
  );
  console.log(
    `  generator lag p99 ${open.generatorLagP99Ms.toFixed(1)} ms, max ${open.generatorLagMaxMs.toFixed(1)} ms; ${open.sockets} connections; server event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `  flushes (whole run incl. warm-up): ${flushes}, mean ${flushes > 0 ? ((flushSeconds / flushes) * 1000).toFixed(1) : '-'} ms, mean ${flushes > 0 ? Math.round(flushed / flushes) : '-'} runners each`,
  );
  console.log(`  ${cpuLine(cpuReport)}`);
  console.log(`  ${countersLine(perHeartbeat, 'heartbeat')}`);
  if (profiled) {
    const saved = saveProfile(profiled, 'heartbeat-server');
    console.log(
      `  CPU profile of the server over the open-loop run (warm-up included)${saved ? `, saved to ${saved}` : ''}:`,
    );
    for (const line of summarizeProfile(profiled)) {
      console.log(`  ${line}`);
    }
  }

  // (2) Closed loop: the most the server sustains, and its CPU per heartbeat when saturated.
  const probe = runners[0]!;
  let probeSeq = 50_000;
  const waited = await settle(() =>
    fetch(`${service.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${probe.token}`, 'content-type': 'application/json' },
      body: heartbeatBody(probe.runnerId)
        .replaceAll('"__SEQ__"', String(probeSeq++))
        .replace('__SENT_AT__', new Date().toISOString()),
    }).then((r) => r.text()),
  );
  if (waited > 1_000)
    console.log(`  (waited ${(waited / 1000).toFixed(1)} s for the server to settle)`);
  const closedMetricsBefore = await (await fetch(`${service.url}/metrics`)).text();
  const closedCountersBefore = await readDatabaseCounters(SERVER_URL, db.name);
  const closedCpu = meterServer();
  const closed = await runLoad({
    baseUrl: service.url,
    targets,
    load: { concurrency: CONCURRENCY },
    warmupMs: 2_000,
    durationMs: Math.min(WINDOW_MS, 8_000),
    seqStart: 100_000,
  });
  const closedCpuReport = closedCpu.stop([
    { name: 'load generator', percent: closed.generatorCpuPercent },
  ]);
  const cpuPerHeartbeat = cpuMsOf(closedCpuReport, 'server (Node)') / closed.answered;
  // Warm-up included on both sides, like the CPU per heartbeat.
  const closedPerHeartbeat = countersPer(
    closedCountersBefore,
    await readDatabaseCounters(SERVER_URL, db.name),
    Math.max(1, closed.answered),
  );
  const closedMetricsAfter = await (await fetch(`${service.url}/metrics`)).text();
  const closedDelta = (name: string, labels = '') =>
    metricSum(closedMetricsAfter, name, labels) - metricSum(closedMetricsBefore, name, labels);
  const lookups = 'stratavore_heartbeat_registry_lookups_total';
  const closedFlushes = closedDelta('stratavore_heartbeat_flush_duration_seconds_count');
  console.log(
    `closed loop x ${CONCURRENCY}: ${perSecond(closed.achievedRate)} ok, ${latencyLine(closed.latency)}`,
  );
  console.log(`  ${cpuLine(closedCpuReport)}`);
  console.log(`  ${countersLine(closedPerHeartbeat, 'heartbeat (closed loop, warm-up included)')}`);
  console.log(
    `  registry lookups: ${closedDelta(lookups, 'result="cached"')} cached, ${closedDelta(lookups, 'result="loaded"')} read from the database; flushes: ${closedFlushes}, mean ${closedFlushes > 0 ? ((closedDelta('stratavore_heartbeat_flush_duration_seconds_sum') / closedFlushes) * 1000).toFixed(1) : '-'} ms, mean ${closedFlushes > 0 ? Math.round(closedDelta('stratavore_heartbeat_flush_size_sum') / closedFlushes) : '-'} runners each`,
  );

  const rows: BenchRow[] = [
    {
      measure: `registration burst p50 (${RUNNERS} first heartbeats)`,
      figure: ms(burst.latency.p50),
    },
    { measure: 'registration burst p99', figure: ms(burst.latency.p99) },
    { measure: 'registration burst booked after', figure: ms(burstBookedMs, 0) },
    { measure: `offered (open loop, ${RUNNERS} runners)`, figure: perSecond(RATE) },
    {
      measure: 'achieved (2xx)',
      figure: perSecond(open.achievedRate),
      target: `>= ${perSecond(RATE * 0.99)}`,
      pass: open.achievedRate >= RATE * 0.99,
    },
    {
      measure: 'errors',
      figure: errorsText(open),
      target: '0',
      pass: Object.keys(open.errors).length === 0,
    },
    { measure: 'latency p50', figure: ms(open.latency.p50) },
    { measure: 'latency p95', figure: ms(open.latency.p95) },
    {
      measure: 'latency p99',
      figure: ms(open.latency.p99),
      target: `< ${TARGET_P99_MS} ms`,
      pass: open.latency.p99 < TARGET_P99_MS,
    },
    { measure: 'latency max', figure: ms(open.latency.max) },

    {
      measure: `max sustainable (closed loop x ${CONCURRENCY})`,
      figure: perSecond(closed.achievedRate),
    },
    { measure: 'closed-loop p99', figure: ms(closed.latency.p99) },
    { measure: 'server CPU per heartbeat (closed loop)', figure: ms(cpuPerHeartbeat, 3) },
    {
      measure: 'database commits per heartbeat (closed loop)',
      figure: closedPerHeartbeat.commits.toFixed(3),
    },
    { measure: 'closed-loop errors', figure: errorsText(closed) },
  ];
  return printTable(
    `heartbeat-ingest bench: HeartbeatIngestModule + service runtime on PostgreSQL, in-process bus; load from a separate process, keep-alive; ${USAGE ? 'every heartbeat books usage; ' : ''}${(WINDOW_MS / 1000).toFixed(0)} s window after ${(WARMUP_MS / 1000).toFixed(0)} s warm-up (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    rows,
  );
}

runBench({
  name: 'heartbeat',
  deadlineMs: 300_000,
  main: () => main().finally(cleanup),
  onAbort: cleanup,
});
