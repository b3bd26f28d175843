/**
 * Budget check latency benchmark: `POST /api/v1/budgets/check` through the gateway with a
 * viewer key, at a fixed offered rate (open loop, target p99 < 5 ms at 500 requests/s).
 *
 *   DATABASE_URL=postgres://... npm run bench -- budget-check      (or npm run bench:budgets)
 *
 * The check is what a client asks before a launch: would a launch of this project, with its
 * estimate, be admitted now, and if not which budget refuses it (docs/budgets.md, "API
 * (gateway)"). Each check goes gateway -> API key (cached) -> runner-manager `projects.get` (the
 * project and its default estimate) -> budget-service `budgets.check` (the covering budgets with
 * their open periods, reservations and fired thresholds) and back. It reserves nothing.
 *
 * Harness: the built single-node daemon (see launch.bench.ts) on a fresh database, the gateway's
 * rate limit raised (API_RATE_LIMIT=100000000 per minute: the limiter runs but never refuses).
 * Set up through the API as a user would: a project with a default launch estimate, a global
 * budget and the project's budget (hard, with warning thresholds), a viewer key, and a few real
 * launches (stand-in agent, support/stub-agent.cjs) so the reservation and ledger tables are not
 * empty. The checks alternate between one that fits (the project's default estimate) and one
 * that a budget refuses (an estimate above what is left): both are 200 answers, the second
 * carries the refusal and its sentence. The load comes from a separate process over keep-alive
 * connections.
 *
 * Before the open-loop window, a closed loop (BENCH_CONCURRENCY in flight, default 16) gives the
 * most the daemon sustains, its CPU, the CPU of the PostgreSQL backends serving its database
 * (found by their process title, apart from other databases on the server) and the database
 * commits per check.
 *
 * Knobs: BENCH_RATE (500/s), BENCH_WARMUP_SECONDS (2), BENCH_SECONDS (10), BENCH_CONCURRENCY
 * (16), BENCH_LAUNCHES (20), BENCH_PROFILE=1 (CPU profile of the daemon over the measured
 * window), BENCH_SKIP_BUILD=1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import {
  type CheckBudgetReply,
  type LaunchRunnerReply,
  type RunnerListReply,
} from '@stratavore/contracts';

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
import { countersLine, countersPer, type DatabaseCounters } from './support/database-stats';
import { type LoadTarget, runLoad, settle, stopLoadGenerators } from './support/load-generator';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2) * 1000;
const WINDOW_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 20);
const TARGET_P99_MS = 5;
const PROJECT = 'budget-bench';
const ESTIMATE_TOKENS = 50_000;
const PROJECT_LIMIT_TOKENS = 5_000_000;

const daemon = new BenchDaemon('budget_check');

/**
 * The PostgreSQL backends serving the daemon's database, found by their process title
 * (`postgres: ... <database> 127.0.0.1(port) idle`; the harness names it `bench_budget_check_*`),
 * so that their CPU is told apart from other databases' on a shared server.
 */
function daemonBackendPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres:') && title.includes(' bench_budget_check_')) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids;
}

/** The daemon and its database backends, each accounted on its own. */
function meteredGroups() {
  return [
    { name: 'daemon', pids: daemon.pid ? [daemon.pid] : [] },
    { name: 'its postgres backends', pids: daemonBackendPids() },
  ];
}
const profileDir = childProfileDir(`${daemon.root}/profile`);

async function cleanup(): Promise<void> {
  stopLoadGenerators();
  await daemon.stop();
}

/** The project, its budgets, a viewer key and a few launches, all through the API. */
async function seed(): Promise<string> {
  await daemon.expect(201, 'POST', '/api/v1/projects', {
    name: PROJECT,
    path: daemon.projectDir,
    command: ['true'],
    maxRunners: 1000,
    estimateTokens: ESTIMATE_TOKENS,
  });
  await daemon.expect(200, 'PUT', '/api/v1/budgets', {
    scope: { kind: 'global' },
    limitTokens: 1_000_000_000,
    limitUsd: 10_000,
    period: 'monthly',
    enforcement: 'hard',
  });
  await daemon.expect(200, 'PUT', '/api/v1/budgets', {
    scope: { kind: 'project', project: PROJECT },
    limitTokens: PROJECT_LIMIT_TOKENS,
    period: 'daily',
    timeZone: 'Europe/Berlin',
    warnThresholds: [0.5, 0.8, 0.95],
    rollover: { enabled: true, capTokens: 1_000_000 },
    enforcement: 'hard',
  });
  for (let i = 0; i < LAUNCHES; i++) {
    const reply = await daemon.expect<LaunchRunnerReply>(
      201,
      'POST',
      `/api/v1/projects/${PROJECT}/runners`,
      {},
    );
    if (reply.status !== 'launched') throw new Error('a seed launch was queued');
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { runners } = await daemon.expect<RunnerListReply>(
      200,
      'GET',
      `/api/v1/runners?project=${PROJECT}&state=pending,starting,running,stopping`,
    );
    if (runners.length === 0) break;
    if (Date.now() > deadline) throw new Error(`${runners.length} seed runners still active`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const { key } = await daemon.expect<{ key: string }>(201, 'POST', '/api/v1/keys', {
    name: 'budget bench viewer',
    scope: 'viewer',
  });
  return key;
}

/**
 * Waits until the seeding's aftermath (runner events, budget releases, the outbox relay) is
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

/** One check of each kind, answered as the contract says, before any load. */
async function verify(targets: readonly LoadTarget[]): Promise<void> {
  const answers: CheckBudgetReply[] = [];
  for (const target of targets) {
    const response = await fetch(`${daemon.url}${target.path}`, {
      method: target.method,
      headers: { ...target.headers, 'content-type': 'application/json' },
      body: target.body,
    });
    if (response.status !== 200) {
      throw new Error(`${target.path}: ${response.status} ${await response.text()}`);
    }
    answers.push((await response.json()) as CheckBudgetReply);
  }
  const [fits, refused] = answers;
  if (!fits?.allowed || fits.budgets.length !== 2) {
    throw new Error(`the default estimate should fit both budgets: ${JSON.stringify(fits)}`);
  }
  const refusal = refused?.refusals[0];
  if (refused?.allowed !== false || refusal?.scope.kind !== 'project') {
    throw new Error(`the large estimate should be refused: ${JSON.stringify(refused)}`);
  }
  console.log(`checked: "${refused.message}"`);
}

function perCheck(before: DatabaseCounters, after: DatabaseCounters, answered: number) {
  return countersPer(before, after, Math.max(1, answered));
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
  const viewerKey = await seed();
  const headers = { authorization: `Bearer ${viewerKey}` };
  const path = '/api/v1/budgets/check';
  const targets: LoadTarget[] = [
    { method: 'POST', path, headers, body: JSON.stringify({ project: PROJECT }) },
    {
      method: 'POST',
      path,
      headers,
      body: JSON.stringify({ project: PROJECT, estimateTokens: PROJECT_LIMIT_TOKENS * 2 }),
    },
  ];
  await verify(targets);
  await quietDatabase();

  // The closed loop first: it cannot overload the daemon, so its CPU and commits per check are
  // clean (and it warms the code up); an overloaded open loop would leave a backlog behind.
  const closedCpu = startCpuMeter(meteredGroups);
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
  const closedCounters = perCheck(closedBefore, await daemon.databaseCounters(), closed.answered);
  console.log(
    `POST ${path} closed loop x ${CONCURRENCY}: ${perSecond(closed.achievedRate)} ok, ${latencyLine(closed.latency)}`,
  );
  console.log(`  ${cpuLine(closedReport)}`);
  console.log(`  ${countersLine(closedCounters, 'check')}`);
  const cpuPerCheckMs = cpuMsOf(closedReport, 'daemon') / Math.max(1, closed.answered);
  const postgresPerCheckMs =
    cpuMsOf(closedReport, 'its postgres backends') / Math.max(1, closed.answered);
  const waited = await settle(() =>
    fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: targets[0]!.body,
    }).then(
      (r) => r.text(),
      // A failed probe counts as slow: a refused connection is not a settled daemon.
      () => new Promise((resolve) => setTimeout(resolve, 500)),
    ),
  );
  if (waited > 1_000) {
    console.log(`  (waited ${(waited / 1000).toFixed(1)} s for the daemon to settle)`);
  }

  const cpu = startCpuMeter(meteredGroups);
  const from = Date.now() - spawnedAt + WARMUP_MS;
  const countersBefore = await daemon.databaseCounters();
  await daemon.eventLoopDelay(); // resets the daemon's histogram: the next read covers the loop
  const result = await runLoad({
    baseUrl: daemon.url,
    targets,
    load: { rate: RATE },
    warmupMs: WARMUP_MS,
    durationMs: WINDOW_MS,
  });
  const cpuReport = cpu.stop([{ name: 'load generator', percent: result.generatorCpuPercent }]);
  const openCounters = perCheck(countersBefore, await daemon.databaseCounters(), result.answered);
  console.log(`POST ${path} @ ${RATE}/s: ${latencyLine(result.latency)} from the due time`);
  const loopDelay = await daemon.eventLoopDelay();
  console.log(
    `  service time ${latencyLine(result.serviceLatency)}; ${result.sockets} connections; generator lag p99 ${result.generatorLagP99Ms.toFixed(1)} ms; daemon event-loop delay (warm-up included) p99 ${loopDelay.p99Ms.toFixed(1)} ms, max ${loopDelay.maxMs.toFixed(1)} ms`,
  );
  console.log(`  ${cpuLine(cpuReport)}`);
  console.log(`  ${countersLine(openCounters, 'check')}`);

  await daemon.stop({ keepFiles: true });
  const profile = profilingRequested ? readNewestProfile(profileDir) : null;
  if (profile) {
    console.log(`CPU profile of the daemon during the open loop:`);
    for (const line of summarizeProfile(profile, { fromMs: from, toMs: from + WINDOW_MS })) {
      console.log(`  ${line}`);
    }
  }

  const errors = Object.entries(result.errors);
  const rows: BenchRow[] = [
    {
      measure: 'checks: achieved',
      figure: perSecond(result.achievedRate),
      target: `>= ${perSecond(RATE * 0.99)}`,
      pass: result.achievedRate >= RATE * 0.99,
    },
    {
      measure: 'checks: errors',
      figure: errors.length === 0 ? '0' : errors.map(([k, v]) => `${v} ${k}`).join(', '),
      target: '0',
      pass: errors.length === 0,
    },
    { measure: 'checks: p50', figure: ms(result.latency.p50) },
    {
      measure: 'checks: p99',
      figure: ms(result.latency.p99),
      target: `< ${TARGET_P99_MS} ms`,
      pass: result.latency.p99 < TARGET_P99_MS,
    },
    { measure: 'checks: max', figure: ms(result.latency.max) },
    {
      measure: `max sustainable (closed loop x ${CONCURRENCY})`,
      figure: perSecond(closed.achievedRate),
    },
    { measure: 'daemon CPU per check (closed loop)', figure: ms(cpuPerCheckMs, 2) },
    {
      measure: "its PostgreSQL backends' CPU per check (closed loop)",
      figure: ms(postgresPerCheckMs, 2),
    },
    {
      measure: 'database commits per check (closed loop)',
      figure: closedCounters.commits.toFixed(2),
    },
  ];
  return printTable(
    `Budget check bench: built stratavored on PostgreSQL, a project with a global and a project budget, open loop at ${RATE}/s from a separate process, keep-alive, rate limit raised; ${(WINDOW_MS / 1000).toFixed(0)} s window after ${(WARMUP_MS / 1000).toFixed(0)} s warm-up (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    rows,
  );
}

runBench({
  name: 'budget-check',
  deadlineMs: 600_000,
  main: () => main().finally(cleanup),
  onAbort: cleanup,
});
