/**
 * API read latency benchmark: `GET /api/v1/runners` and `GET /api/v1/runners/:id` through the
 * gateway with an API key, each at a fixed offered rate (open loop, target p99 < 10 ms at
 * 500 requests/s), with a few hundred runners in the database.
 *
 *   DATABASE_URL=postgres://... npm run bench -- api-read
 *
 * Harness: the built single-node daemon (see launch.bench.ts) on a fresh database, with the
 * gateway's rate limit raised through its environment (API_RATE_LIMIT=100000000 per minute) so
 * that the limiter is exercised but never refuses. The runners are launched for real through
 * the API and the real local launcher, which starts a stand-in agent (support/stub-agent.cjs,
 * through AGENT_MAIN_PATH: it sends a first heartbeat and an exit report over HTTP, then exits;
 * the real agent costs about a second of CPU to start), so every row and its liveness come from
 * the real flow; the reads begin once all of them ended. The load comes from a
 * separate process over keep-alive connections with the daemon's admin key. Each read goes
 * gateway -> API key check (cached after the first request) -> runner-manager (`runners.list` /
 * `runners.get` over the in-process bus: one query, the project and planned restart joined) and
 * heartbeat-ingest (`liveness.get`; for a single runner at the same time as runner-manager,
 * for a page after it) and back. The list's open loop reads one page that does not change, so
 * the gateway answers it from its runner list cache (API_LIST_CACHE_TTL, one read from the
 * services a second); a third phase measures the page uncached (`Cache-Control: no-cache`,
 * closed loop only): its cost per read, without a target.
 *
 * Before each open-loop window, a closed loop (BENCH_CONCURRENCY requests in flight, default 16)
 * gives the most the daemon sustains on that endpoint, and its CPU and database commits per
 * request when saturated (the figures to compare between versions on a busy machine); it runs
 * first because an overloaded open loop leaves a backlog behind.
 *
 * Knobs: BENCH_RUNNERS (200), BENCH_RATE (500/s), BENCH_WARMUP_SECONDS (2), BENCH_SECONDS (10),
 * BENCH_LIST_LIMIT (the list's `limit`; default: none, i.e. the API's default page of 50),
 * BENCH_PROFILE=1 (CPU profile of the daemon over the measured windows), BENCH_SKIP_BUILD=1.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { type LaunchRunnerReply, type RunnerListReply } from '@stratavore/contracts';

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
  childProfileDir,
  profilingRequested,
  readNewestProfile,
  summarizeProfile,
} from './support/cpu-profile';
import { BenchDaemon, buildDaemonAndAgent } from './support/daemon-harness';
import { countersLine, countersPer } from './support/database-stats';
import {
  type LoadResult,
  type LoadTarget,
  runLoad,
  settle,
  stopLoadGenerators,
} from './support/load-generator';

const RUNNERS = Number(process.env.BENCH_RUNNERS ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2) * 1000;
const WINDOW_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const LIST_LIMIT = process.env.BENCH_LIST_LIMIT;
const SEED_CONCURRENCY = 6;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TARGET_P99_MS = 10;
const PROJECT = 'read-bench';

const daemon = new BenchDaemon('api_read');
const profileDir = childProfileDir(`${daemon.root}/profile`);

async function cleanup(): Promise<void> {
  stopLoadGenerators();
  await daemon.stop();
}

async function seedRunners(): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < RUNNERS) {
        next++;
        const reply = await daemon.expect<LaunchRunnerReply>(
          201,
          'POST',
          `/api/v1/projects/${PROJECT}/runners`,
          {},
        );
        if (reply.status !== 'launched') throw new Error('a seed launch was queued');
        ids.push(reply.runner.id);
      }
    }),
  );
  const deadline = Date.now() + 180_000;
  for (;;) {
    const { runners } = await daemon.expect<RunnerListReply>(
      200,
      'GET',
      `/api/v1/runners?project=${PROJECT}&limit=500`,
    );
    const active = runners.filter((r) =>
      ['pending', 'starting', 'running', 'stopping'].includes(r.state),
    ).length;
    if (active === 0) {
      const reported = runners.filter((r) => r.lastHeartbeatAt !== null).length;
      console.log(
        `seeded ${runners.length} runners (all ended, ${reported} with heartbeats recorded)`,
      );
      return ids;
    }
    if (Date.now() > deadline) throw new Error(`${active} seeded runners still active after 180 s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Waits until the seeding's aftermath (runner events through the outbox, budget releases) is
 * over: two half-second readings in a row under 20 commits/s, or 30 s.
 */
async function quietDatabase(): Promise<void> {
  const deadline = Date.now() + 30_000;
  let quiet = 0;
  let before = await daemon.databaseCounters();
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await daemon.databaseCounters();
    quiet = (after.commits - before.commits) * 2 < 20 ? quiet + 1 : 0;
    before = after;
  }
}

interface Phase {
  readonly name: string;
  /** Open loop at RATE; none for a phase measured closed loop only. */
  readonly result: LoadResult | null;
  /** Closed loop: the most the daemon sustains on this endpoint. */
  readonly closed: LoadResult;
  /** Daemon CPU per answered request in the closed loop (saturated), ms. */
  readonly cpuPerRequestMs: number;
  /** PostgreSQL commits per answered request in the closed loop. */
  readonly commitsPerRequest: number;
  /** Milliseconds since the daemon was spawned, for the profile (the open-loop window). */
  readonly from: number;
  readonly to: number;
}

/**
 * Waits until one request like the load's is answered within 250 ms: an overloaded open loop
 * leaves requests its generator gave up on, which the daemon still works off. A failed probe
 * counts as slow (a refused connection is not a settled daemon).
 */
async function settleAfter(targets: readonly LoadTarget[]): Promise<void> {
  const [first] = targets;
  const waited = await settle(() =>
    fetch(`${daemon.url}${first!.path}`, { headers: first!.headers }).then(
      (r) => r.text(),
      () => new Promise((resolve) => setTimeout(resolve, 500)),
    ),
  );
  if (waited > 1_000) {
    console.log(`  (waited ${(waited / 1000).toFixed(1)} s for the daemon to settle)`);
  }
}

/**
 * The closed loop first (it cannot overload the daemon, so its CPU and commits per request are
 * clean, and it warms the code up), then the open loop at RATE, then a wait until the daemon has
 * worked off what the open loop left.
 */
async function measure(
  name: string,
  targets: LoadTarget[],
  spawnedAt: number,
  options: { readonly openLoop: boolean } = { openLoop: true },
): Promise<Phase> {
  const closedCpu = startCpuMeter(() => [{ name: 'daemon', pids: daemon.pid ? [daemon.pid] : [] }]);
  const closedBefore = await daemon.databaseCounters();
  const closed = await runLoad({
    baseUrl: daemon.url,
    targets,
    load: { concurrency: CONCURRENCY },
    warmupMs: 1_000,
    durationMs: 5_000,
  });
  const closedReport = closedCpu.stop([
    { name: 'load generator', percent: closed.generatorCpuPercent },
  ]);
  // Commits per request are read in the closed loop: at its rate the daemon's own background
  // commits (timers, relay) weigh less per request than at a low open-loop rate.
  const closedCounters = countersPer(
    closedBefore,
    await daemon.databaseCounters(),
    Math.max(1, closed.answered),
  );
  console.log(
    `${name} closed loop x ${CONCURRENCY}: ${perSecond(closed.achievedRate)} ok, ${latencyLine(closed.latency)}`,
  );
  console.log(`  ${cpuLine(closedReport)}`);
  console.log(`  ${countersLine(closedCounters, 'request')}`);
  await settleAfter(targets);
  const closedFigures = {
    closed,
    cpuPerRequestMs: cpuMsOf(closedReport, 'daemon') / Math.max(1, closed.answered),
    commitsPerRequest: closedCounters.commits,
  };
  if (!options.openLoop) return { name, result: null, ...closedFigures, from: 0, to: 0 };

  const cpu = startCpuMeter(() => [{ name: 'daemon', pids: daemon.pid ? [daemon.pid] : [] }]);
  const from = Date.now() - spawnedAt + WARMUP_MS;
  const countersBefore = await daemon.databaseCounters();
  const result = await runLoad({
    baseUrl: daemon.url,
    targets,
    load: { rate: RATE },
    warmupMs: WARMUP_MS,
    durationMs: WINDOW_MS,
  });
  const cpuReport = cpu.stop([{ name: 'load generator', percent: result.generatorCpuPercent }]);
  const perRequest = countersPer(
    countersBefore,
    await daemon.databaseCounters(),
    Math.max(1, result.answered),
  );
  console.log(`${name} @ ${RATE}/s: ${latencyLine(result.latency)} from the due time`);
  console.log(
    `  service time ${latencyLine(result.serviceLatency)}; ${result.sockets} connections; generator lag p99 ${result.generatorLagP99Ms.toFixed(1)} ms`,
  );
  console.log(`  ${cpuLine(cpuReport)}`);
  console.log(`  ${countersLine(perRequest, 'request')}`);
  await settleAfter(targets);
  return { name, result, ...closedFigures, from, to: from + WINDOW_MS };
}

function errorsText(result: LoadResult): string {
  const entries = Object.entries(result.errors);
  return entries.length === 0 ? '0' : entries.map(([k, v]) => `${v} ${k}`).join(', ');
}

async function main(): Promise<number> {
  const started = performance.now();
  await buildDaemonAndAgent();
  const spawnedAt = Date.now();
  await daemon.start(
    {
      API_RATE_LIMIT: '100000000',
      API_RATE_LIMIT_WINDOW: '1m',
      AGENT_MAIN_PATH: join(__dirname, 'support', 'stub-agent.cjs'),
    },
    profilingRequested ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  await daemon.expect(201, 'POST', '/api/v1/projects', {
    name: PROJECT,
    path: daemon.projectDir,
    command: ['true'],
    maxRunners: 1000,
  });
  const seedStart = performance.now();
  const ids = await seedRunners();
  console.log(`  (seeding took ${((performance.now() - seedStart) / 1000).toFixed(1)} s)`);
  await quietDatabase();

  const headers = { authorization: `Bearer ${daemon.apiKey}` };
  const listPath = `/api/v1/runners${LIST_LIMIT ? `?limit=${LIST_LIMIT}` : ''}`;
  const list = await measure(
    `GET ${listPath}`,
    [{ method: 'GET', path: listPath, headers }],
    spawnedAt,
  );
  const one = await measure(
    'GET /api/v1/runners/:id',
    ids.map((id) => ({ method: 'GET' as const, path: `/api/v1/runners/${id}`, headers })),
    spawnedAt,
  );
  // What a page costs when the gateway's runner list cache cannot answer it (a runner changed
  // since, or a client asked for a fresh page): every read goes to the services.
  const uncached = await measure(
    `GET ${listPath}, uncached`,
    [{ method: 'GET', path: listPath, headers: { ...headers, 'cache-control': 'no-cache' } }],
    spawnedAt,
    { openLoop: false },
  );

  await daemon.stop({ keepFiles: true });
  if (profilingRequested) {
    const profile = readNewestProfile(profileDir);
    for (const phase of profile ? [list, one] : []) {
      console.log(`CPU profile of the daemon during ${phase.name}:`);
      for (const line of summarizeProfile(profile!, { fromMs: phase.from, toMs: phase.to })) {
        console.log(`  ${line}`);
      }
    }
  }

  const rows: BenchRow[] = [];
  for (const phase of [list, one, uncached]) {
    const r = phase.result;
    rows.push(
      ...(r === null
        ? []
        : [
            {
              measure: `${phase.name}: achieved`,
              figure: perSecond(r.achievedRate),
              target: `>= ${perSecond(RATE * 0.99)}`,
              pass: r.achievedRate >= RATE * 0.99,
            },
            {
              measure: `${phase.name}: errors`,
              figure: errorsText(r),
              target: '0',
              pass: Object.keys(r.errors).length === 0,
            },
            { measure: `${phase.name}: p50`, figure: ms(r.latency.p50) },
            {
              measure: `${phase.name}: p99`,
              figure: ms(r.latency.p99),
              target: `< ${TARGET_P99_MS} ms`,
              pass: r.latency.p99 < TARGET_P99_MS,
            },
            { measure: `${phase.name}: max`, figure: ms(r.latency.max) },
          ]),
      {
        measure: `${phase.name}: max sustainable (closed loop x ${CONCURRENCY})`,
        figure: perSecond(phase.closed.achievedRate),
      },
      { measure: `${phase.name}: daemon CPU per request`, figure: ms(phase.cpuPerRequestMs, 2) },
      {
        measure: `${phase.name}: database commits per request`,
        figure: phase.commitsPerRequest.toFixed(2),
      },
    );
  }
  return printTable(
    `API read bench: built stratavored on PostgreSQL, ${RUNNERS} runners, open loop at ${RATE}/s per endpoint from a separate process, keep-alive, rate limit raised; ${(WINDOW_MS / 1000).toFixed(0)} s window after ${(WARMUP_MS / 1000).toFixed(0)} s warm-up (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    rows,
  );
}

runBench({
  name: 'api-read',
  deadlineMs: 600_000,
  main: () => main().finally(cleanup),
  onAbort: cleanup,
});
