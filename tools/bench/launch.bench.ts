/**
 * Launch latency benchmark: from `POST /api/v1/projects/:name/runners` to the runner's first
 * heartbeat received by heartbeat-ingest (target p99 < 500 ms), through the gateway.
 *
 *   DATABASE_URL=postgres://... npm run bench -- launch
 *
 * Harness: the built single-node daemon (`stratavored`: gateway, runner-manager with the real
 * local launcher, heartbeat-ingest and the outbox relay in one process, in-process bus) on a
 * fresh database of DATABASE_URL's server, driven over HTTP with the admin key it writes to its
 * CLI config (a temporary STRATAVORE_CONFIG). Every launch starts the built agent around
 * `sleep` for real. The first heartbeat is observed on the gateway's event stream
 * (`heartbeat.first-received` carries the time heartbeat-ingest received it, which is what is
 * measured, so no polling adds load or granularity); `runner.running` gives the time the state
 * changed. The launches' own timestamps split the time: request -> row inserted (createdAt) ->
 * agent spawned (startedAt) -> first heartbeat.
 *
 * Builds the daemon and the agent first (an Nx cache hit when nothing changed; BENCH_SKIP_BUILD=1
 * skips). Knobs: BENCH_LAUNCHES (100), BENCH_LAUNCH_CONCURRENCY (4), BENCH_SLEEP_SECONDS (3, the
 * runners' command is `sleep <n>`), BENCH_PROFILE=1 (CPU profile of the daemon over the
 * measured launches).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { type LaunchRunnerReply, type RunnerListReply } from '@stratavore/contracts';

import {
  type BenchRow,
  latencyLine,
  ms,
  printTable,
  runBench,
  summarize,
} from './support/bench-report';
import { cpuLine, cpuMsOf, processCpuMs, startCpuMeter } from './support/cpu-meter';
import {
  childProfileDir,
  profilingRequested,
  readNewestProfile,
  summarizeProfile,
} from './support/cpu-profile';
import { BenchDaemon, buildDaemonAndAgent } from './support/daemon-harness';
import { countersLine, countersPer } from './support/database-stats';
import { openEventStream, type StreamedEvent } from './support/event-stream';

const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 100);
const CONCURRENCY = Number(process.env.BENCH_LAUNCH_CONCURRENCY ?? 4);
const SLEEP_SECONDS = Number(process.env.BENCH_SLEEP_SECONDS ?? 3);
const WARMUP_LAUNCHES = 4;
const TARGET_P99_MS = 500;
const PROJECT = 'launch-bench';

const daemon = new BenchDaemon('launch');
const profileDir = childProfileDir(`${daemon.root}/profile`);
let stream: { close(): void } | null = null;

async function cleanup(): Promise<void> {
  stream?.close();
  await daemon.stop();
}

/** Events by runner id, and the waiters of events not arrived yet. */
class EventBook {
  private readonly seen = new Map<string, StreamedEvent>();
  private readonly waiters = new Map<string, (event: StreamedEvent) => void>();

  add(event: StreamedEvent): void {
    const runnerId = event.envelope.data.runnerId;
    if (typeof runnerId !== 'string') return;
    const key = `${event.type}:${runnerId}`;
    this.seen.set(key, event);
    this.waiters.get(key)?.(event);
    this.waiters.delete(key);
  }

  wait(type: string, runnerId: string, timeoutMs: number): Promise<StreamedEvent> {
    const key = `${type}:${runnerId}`;
    const seen = this.seen.get(key);
    if (seen) return Promise.resolve(seen);
    return new Promise<StreamedEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no ${type} for runner ${runnerId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  }
}

interface LaunchSample {
  readonly runnerId: string;
  /** Milliseconds from the request, all on this machine's wall clock. */
  readonly answered: number;
  readonly inserted: number;
  readonly spawned: number;
  readonly firstHeartbeat: number;
  readonly running: number;
  /** CPU the agent process had used when its first heartbeat was received (ms). */
  readonly agentCpu: number;
}

async function launchOne(book: EventBook): Promise<LaunchSample> {
  const t0 = Date.now();
  const reply = await daemon.expect<LaunchRunnerReply>(
    201,
    'POST',
    `/api/v1/projects/${PROJECT}/runners`,
    {},
  );
  const answered = Date.now() - t0;
  if (reply.status !== 'launched') throw new Error('the launch was queued; raise maxRunners');
  const { runner } = reply;
  // Past two heartbeat intervals a lost first heartbeat shows as such rather than as a timeout.
  const first = await book.wait('heartbeat.first-received', runner.id, 30_000);
  const agentCpu = runner.agentPid === null ? Number.NaN : processCpuMs(runner.agentPid);
  const running = await book.wait('runner.running', runner.id, 30_000);
  return {
    runnerId: runner.id,
    answered,
    inserted: Date.parse(runner.createdAt) - t0,
    spawned: (runner.startedAt ? Date.parse(runner.startedAt) : Number.NaN) - t0,
    firstHeartbeat: Date.parse(String(first.envelope.data.receivedAt)) - t0,
    running: Date.parse(running.envelope.time) - t0,
    agentCpu,
  };
}

async function launchMany(book: EventBook, count: number): Promise<LaunchSample[]> {
  const samples: LaunchSample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) {
        next++;
        samples.push(await launchOne(book));
      }
    }),
  );
  return samples;
}

async function main(): Promise<number> {
  const started = performance.now();
  await buildDaemonAndAgent();
  const spawnedAt = Date.now();
  await daemon.start(
    { API_RATE_LIMIT: '1000000' },
    profilingRequested ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  await daemon.expect(201, 'POST', '/api/v1/projects', {
    name: PROJECT,
    path: daemon.projectDir,
    command: ['sleep', String(SLEEP_SECONDS)],
    maxRunners: 1000,
  });
  const book = new EventBook();
  stream = await openEventStream({
    url: daemon.url,
    apiKey: daemon.apiKey,
    types: ['heartbeat.first-received', 'runner.running'],
    onEvent: (event) => book.add(event),
  });

  await launchMany(book, WARMUP_LAUNCHES);
  const cpu = startCpuMeter(() => [{ name: 'daemon', pids: daemonPids() }]);
  const countersBefore = await daemon.databaseCounters();
  const windowFrom = Date.now() - spawnedAt;
  const windowStart = performance.now();
  const samples = await launchMany(book, LAUNCHES);
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const windowTo = Date.now() - spawnedAt;
  const cpuReport = cpu.stop();
  const perLaunch = countersPer(countersBefore, await daemon.databaseCounters(), LAUNCHES);

  // Every runner ends by itself (`sleep`); wait for it so the run is known to be clean.
  const ended = await waitForRunnersToEnd();
  stream.close();
  stream = null;

  const of = (pick: (s: LaunchSample) => number) => summarize(samples.map(pick));
  const first = of((s) => s.firstHeartbeat);
  const running = of((s) => s.running);
  console.log(
    `${LAUNCHES} launches, ${CONCURRENCY} at a time, in ${windowSeconds.toFixed(1)} s (${(LAUNCHES / windowSeconds).toFixed(1)}/s); command: sleep ${SLEEP_SECONDS}`,
  );
  console.log(`  POST answered            ${latencyLine(of((s) => s.answered))}`);
  console.log(`  request -> row inserted  ${latencyLine(of((s) => s.inserted))}`);
  console.log(`  inserted -> agent spawned ${latencyLine(of((s) => s.spawned - s.inserted))}`);
  console.log(
    `  spawned -> first heartbeat ${latencyLine(of((s) => s.firstHeartbeat - s.spawned))}`,
  );
  console.log(`  request -> first heartbeat ${latencyLine(first)}`);
  console.log(`  request -> state running   ${latencyLine(running)}`);
  const agentCpu = of((s) => s.agentCpu);
  const daemonCpuPerLaunch = cpuMsOf(cpuReport, 'daemon') / LAUNCHES;
  console.log(`  agent CPU at its first heartbeat ${latencyLine(agentCpu)}`);
  console.log(
    `  daemon CPU per launch ${daemonCpuPerLaunch.toFixed(1)} ms (its agent spawner process included)`,
  );
  console.log(`  ${countersLine(perLaunch, 'launch (first heartbeat included)')}`);
  console.log(`  runners ended: ${JSON.stringify(ended)}`);
  console.log(`  ${cpuLine(cpuReport)} (agents and their children count as everything else)`);

  await daemon.stop({ keepFiles: true });
  if (profilingRequested) {
    const profile = readNewestProfile(profileDir);
    if (profile) {
      console.log('  CPU profile of the daemon over the measured launches:');
      for (const line of summarizeProfile(profile, { fromMs: windowFrom, toMs: windowTo })) {
        console.log(`  ${line}`);
      }
    }
  }

  const slow = samples.filter((s) => s.firstHeartbeat > 5_000).length;
  const rows: BenchRow[] = [
    { measure: `launches (${CONCURRENCY} concurrent)`, figure: String(samples.length) },
    { measure: 'POST answered p99', figure: ms(of((s) => s.answered).p99) },
    { measure: 'launch -> first heartbeat p50', figure: ms(first.p50) },
    {
      measure: 'launch -> first heartbeat p99',
      figure: ms(first.p99),
      target: `< ${TARGET_P99_MS} ms`,
      pass: first.p99 < TARGET_P99_MS,
    },
    { measure: 'launch -> first heartbeat max', figure: ms(first.max) },
    {
      measure: 'first heartbeat later than 5 s',
      figure: String(slow),
      target: '0',
      pass: slow === 0,
    },
    { measure: 'agent CPU to first heartbeat p50', figure: ms(agentCpu.p50, 0) },
    { measure: 'daemon CPU per launch', figure: ms(daemonCpuPerLaunch, 0) },
    { measure: 'database commits per launch', figure: perLaunch.commits.toFixed(0) },
    { measure: 'launch -> state running p50', figure: ms(running.p50) },
    { measure: 'launch -> state running p99', figure: ms(running.p99) },
  ];
  return printTable(
    `launch bench: built stratavored (gateway + runner-manager + heartbeat-ingest + relay, in-process bus) on PostgreSQL, real local launcher and agent (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    rows,
  );
}

/**
 * The daemon and its agent spawner, the child process that starts the agents for it
 * (runner-manager's agent-spawner.ts): the agents are the spawner's children, not the daemon's.
 */
function daemonPids(): number[] {
  const pid = daemon.pid;
  if (pid === undefined) return [];
  const children = readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('spawnerMain');
    } catch {
      return false;
    }
  });
  return [pid, ...children.map(Number)];
}

async function waitForRunnersToEnd(): Promise<Record<string, number>> {
  const deadline = Date.now() + (SLEEP_SECONDS + 30) * 1000;
  for (;;) {
    const { runners } = await daemon.expect<RunnerListReply>(
      200,
      'GET',
      `/api/v1/runners?project=${PROJECT}&limit=500`,
    );
    const byState: Record<string, number> = {};
    for (const r of runners) byState[r.state] = (byState[r.state] ?? 0) + 1;
    const active = runners.filter((r) =>
      ['pending', 'starting', 'running', 'stopping'].includes(r.state),
    ).length;
    if (active === 0 || Date.now() > deadline) return byState;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

runBench({
  name: 'launch',
  deadlineMs: 600_000,
  main: () => main().finally(cleanup),
  onAbort: cleanup,
});
