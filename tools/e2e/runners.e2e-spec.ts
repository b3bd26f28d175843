// Runners end to end, as a user drives them: the CLI (`node bin.js ...`) against the real
// single-node daemon (embedded PostgreSQL, in-process bus) started as a child process on a temp
// data dir, with real detached agents. beforeAll builds the three apps (cached by Nx), so
// `npx nx run e2e:e2e` works on its own. The steps of the main flow share one daemon and run in
// order; a failed step does not stop the later ones, which say so when they lack what it made.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  buildApps,
  type CliResult,
  type Daemon,
  describeCli,
  DIST,
  eventually,
  GiveUp,
  isAlive,
  postmasterPid,
  type RunnerView,
  Sandbox,
} from './support/e2e-harness';

const HEARTBEAT_INTERVAL_MS = 1_000;
const STALE_CHECK_INTERVAL_MS = 500;
const STALE_AFTER_INTERVALS = 3; // the daemon's default STALE_AFTER_INTERVALS
const FAST_LIVENESS = {
  HEARTBEAT_INTERVAL: `${HEARTBEAT_INTERVAL_MS}ms`,
  STALE_CHECK_INTERVAL: `${STALE_CHECK_INTERVAL_MS}ms`,
  STALE_GRACE: '2s',
};
/**
 * After a restart the detector must not judge a runner before its agent's next retry: the agent
 * backs off (full jitter, base = interval, cap 30 s) while the daemon is down, so a 2 s grace
 * would fail a healthy runner whose retry is still sleeping. 30 s = the agent's backoff cap.
 */
const RESTART_LIVENESS = { ...FAST_LIVENESS, STALE_GRACE: '30s' };

/** Generous on a loaded 2-core machine; every wait still has one. */
const BUILD_TIMEOUT_MS = 900_000;
const STATE_TIMEOUT_MS = 60_000;
const PROCESS_GONE_TIMEOUT_MS = 20_000;
const RESUME_TIMEOUT_MS = 90_000;

const timings: string[] = [];
function timed(label: string, since: number): number {
  const ms = Date.now() - since;
  timings.push(`${label}: ${ms} ms`);
  return ms;
}

function expectOk(result: CliResult): void {
  if (result.code !== 0) throw new Error(describeCli(result));
}

/** oclif wraps long errors and prefixes lines with `›`; one line for matching. */
function flatten(text: string): string {
  return text.replace(/›/g, ' ').replace(/\s+/g, ' ').trim();
}

async function launch(sandbox: Sandbox, project: string): Promise<RunnerView> {
  const result = await sandbox.cli(['launch', project, '--json']);
  expectOk(result);
  const runner = JSON.parse(result.stdout) as RunnerView;
  sandbox.track([runner]);
  return runner;
}

async function eventuallyState(
  sandbox: Sandbox,
  id: string,
  states: readonly string[],
  timeoutMs = STATE_TIMEOUT_MS,
): Promise<RunnerView> {
  return eventually(
    `runner ${id} reaches ${states.join(' or ')}`,
    async () => {
      const runner = await sandbox.runner(id);
      if (states.includes(runner.state)) return runner;
      throw new Error(summary([runner]));
    },
    { timeoutMs },
  );
}

async function eventuallyGone(what: string, pid: number): Promise<void> {
  await eventually(`${what} (pid ${pid}) exits`, () => !isAlive(pid), {
    timeoutMs: PROCESS_GONE_TIMEOUT_MS,
  });
}

function summary(runners: readonly RunnerView[]): string {
  return runners
    .map(
      (r) =>
        `${r.id} ${r.state} pid=${r.pid} failureReason=${r.failureReason} lastHeartbeatAt=${r.lastHeartbeatAt}`,
    )
    .join('; ');
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`an earlier step failed: ${what} is unknown`);
  }
  return value;
}

/**
 * Starts the CLI as `Sandbox.cli` does, but hands back its output while it runs (`logs
 * --follow`). Killed after `timeoutMs`, like any CLI run of the suite.
 */
function startCli(
  sandbox: Sandbox,
  args: readonly string[],
  timeoutMs = 60_000,
): { stdout: () => string; result: Promise<CliResult> } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STRATAVORE_CONFIG: sandbox.configPath,
    NO_COLOR: '1',
    COLUMNS: '400',
  };
  delete env.STRATAVORE_API_URL;
  delete env.STRATAVORE_API_KEY;
  const started = Date.now();
  const child = spawn(process.execPath, [DIST.cli, ...args], {
    cwd: sandbox.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<CliResult>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr, ms: Date.now() - started });
    }),
  );
  return { stdout: () => stdout, result };
}

beforeAll(async () => {
  const started = Date.now();
  await buildApps(BUILD_TIMEOUT_MS);
  timed('build (nx, cached when unchanged)', started);
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(() => {
  process.stdout.write(`\ne2e timings:\n  ${timings.join('\n  ')}\n`);
});

describe('runners through the CLI against the single-node daemon', () => {
  const sandbox = new Sandbox();
  let daemon: Daemon | undefined;
  let first: RunnerView | undefined;
  let second: RunnerView | undefined;
  let third: RunnerView | undefined;

  beforeAll(async () => {
    const started = Date.now();
    daemon = await sandbox.startDaemon(FAST_LIVENESS);
    timed('daemon first start (initdb, migrations)', started);
  }, 180_000);

  afterAll(async () => {
    await sandbox.cleanup();
  }, 120_000);

  it('1. creates a project with a quota of 2', async () => {
    const result = await sandbox.cli([
      'new',
      'e2e',
      '--path',
      sandbox.projectDir,
      '--max-runners',
      '2',
      '--command',
      sandbox.tickingCommand(),
    ]);
    expectOk(result);
    expect(result.stdout).toContain('Created project e2e');
  });

  it('2. launches two runners and refuses a third, naming the quota and its holders', async () => {
    first = await launch(sandbox, 'e2e');
    second = await launch(sandbox, 'e2e');
    expect(first.id).not.toBe(second.id);

    const refused = await sandbox.cli(['launch', 'e2e']);
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 4, stdout: '' });
    const message = flatten(refused.stderr);
    expect(message).toContain('allows 2 concurrent runners');
    expect(message).toContain(first.id);
    expect(message).toContain(second.id);
  });

  it('3. shows both runners running, with pids and a heartbeat', async () => {
    const ids = [need(first, 'runner 1').id, need(second, 'runner 2').id];
    const started = Date.now();
    const running = await eventually(
      'both runners are `running` with a pid',
      async () => {
        const runners = (await sandbox.runners('e2e')).filter((r) => ids.includes(r.id));
        if (runners.some((r) => ['failed', 'stopped', 'completed'].includes(r.state))) {
          throw new GiveUp(`a runner ended: ${summary(runners)}`);
        }
        if (runners.length === 2 && runners.every((r) => r.state === 'running' && r.pid)) {
          return runners;
        }
        throw new Error(summary(runners));
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    timed('two launches -> both running', started);
    for (const runner of running) {
      for (const field of ['id', 'project', 'state', 'pid', 'lastHeartbeatAt', 'exitCode']) {
        expect(runner).toHaveProperty(field);
      }
      expect(runner.project.name).toBe('e2e');
      expect(runner.exitCode).toBeNull();
      expect(isAlive(need(runner.pid, 'pid'))).toBe(true);
      expect(isAlive(need(runner.agentPid, 'agentPid'))).toBe(true);
    }
    [first, second] = ids.map((id) => running.find((r) => r.id === id));

    // Liveness enrichment: the runner reply carries the last heartbeat's time. Demanded.
    await eventually(
      'both running runners show a non-null lastHeartbeatAt',
      async () => {
        const runners = (await sandbox.runners('e2e')).filter((r) => ids.includes(r.id));
        expect(runners.map((r) => r.lastHeartbeatAt)).toEqual([
          expect.any(String),
          expect.any(String),
        ]);
        return true;
      },
      { timeoutMs: 10 * HEARTBEAT_INTERVAL_MS + 10_000 },
    );
  });

  it('4. `kill` stops runner 1 and its child process', async () => {
    const runner = need(first, 'runner 1');
    const child = need(runner.pid, 'runner 1 pid');
    const started = Date.now();
    const result = await sandbox.cli(['kill', runner.id]);
    expectOk(result);
    const stopped = await eventuallyState(sandbox, runner.id, ['stopped', 'failed', 'completed']);
    timed('kill -> stopped', started);
    expect(stopped).toMatchObject({ state: 'stopped', failureReason: null });
    await eventuallyGone('runner 1 child', child);
    await eventuallyGone('runner 1 agent', need(runner.agentPid, 'runner 1 agentPid'));
  });

  it('5. a SIGKILLed agent fails its runner with heartbeat_timeout within the bound', async () => {
    const runner = need(second, 'runner 2');
    const agentPid = need(runner.agentPid, 'runner 2 agentPid');
    const boundMs = STALE_AFTER_INTERVALS * HEARTBEAT_INTERVAL_MS + STALE_CHECK_INTERVAL_MS + 1_000;
    const killedAt = Date.now();
    process.kill(agentPid, 'SIGKILL');
    const failed = await eventuallyState(sandbox, runner.id, ['failed', 'stopped', 'completed']);
    const seenMs = Date.now() - killedAt;
    const endedMs = Date.parse(need(failed.endedAt, 'endedAt of the failed runner')) - killedAt;
    timings.push(
      `agent SIGKILL -> failed: endedAt +${endedMs} ms (seen by CLI +${seenMs} ms), bound ${boundMs} ms`,
    );
    expect(failed).toMatchObject({ state: 'failed', failureReason: 'heartbeat_timeout' });
    expect(endedMs).toBeLessThanOrEqual(boundMs);
  });

  it('6. a runner survives a daemon restart and its heartbeats resume', async () => {
    // The SIGKILLed agent's child is an orphan the product does not reap; it is ours to end.
    const orphan = second?.pid;
    if (orphan && isAlive(orphan)) {
      try {
        process.kill(-orphan, 'SIGKILL');
      } catch {
        process.kill(orphan, 'SIGKILL');
      }
    }

    third = await launch(sandbox, 'e2e');
    const id = third.id;
    const before = await eventually(
      'runner 3 is running with a heartbeat',
      async () => {
        const runner = await sandbox.runner(id);
        return runner.state === 'running' && runner.pid && runner.lastHeartbeatAt
          ? runner
          : undefined;
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    third = before;

    const old = need(daemon, 'the daemon');
    const postgres = need(postmasterPid(sandbox.dataDir), 'the embedded PostgreSQL pid');
    let started = Date.now();
    const exit = await old.stop();
    timed('daemon SIGTERM -> exit', started);
    expect(exit).toEqual({ code: 0, signal: null });
    await eventuallyGone('embedded PostgreSQL', postgres);
    expect(isAlive(need(before.agentPid, 'agentPid'))).toBe(true);
    expect(isAlive(need(before.pid, 'pid'))).toBe(true);

    // Same port: the agent keeps the heartbeat URL it was launched with.
    started = Date.now();
    daemon = await sandbox.startDaemon({ ...RESTART_LIVENESS, HTTP_PORT: String(old.port) });
    const restartedAt = Date.now();
    timed('daemon restart -> ready', started);

    const seen: string[] = [];
    await eventually(
      'runner 3 is still running and its lastHeartbeatAt advances twice after the restart',
      async () => {
        const runner = await sandbox.runner(id);
        if (['failed', 'stopped', 'completed'].includes(runner.state)) {
          throw new GiveUp(`runner 3 ended: ${JSON.stringify(runner)}`);
        }
        const at = runner.lastHeartbeatAt;
        if (
          runner.state === 'running' &&
          at &&
          Date.parse(at) > restartedAt &&
          !seen.includes(at)
        ) {
          seen.push(at);
        }
        return seen.length >= 2;
      },
      { timeoutMs: RESUME_TIMEOUT_MS },
    );
    timed('restart -> heartbeats resumed (2 new lastHeartbeatAt)', restartedAt);
  });

  it("7. `logs` prints a runner's output; `logs --follow` exits by itself once it ended", async () => {
    // Prints a line, waits for the test's go-ahead (a file in the project dir), prints another.
    // The sandbox marker as $0: the cleanup sweep finds the shell by it.
    const goFile = join(sandbox.projectDir, 'logs-e2e.go');
    const script = 'echo "hello \u2603"; while [ ! -e logs-e2e.go ]; do sleep 0.1; done; echo bye';
    const launched = await sandbox.cli([
      'launch',
      'e2e',
      '--json',
      '--',
      'sh',
      '-c',
      script,
      sandbox.marker,
    ]);
    expectOk(launched);
    const runner = JSON.parse(launched.stdout) as RunnerView;
    sandbox.track([runner]);

    const started = Date.now();
    await eventually(
      'the runner prints its first line, read through `logs`',
      async () => {
        const result = await sandbox.cli(['logs', runner.id]);
        expectOk(result);
        return result.stdout === 'hello \u2603\n';
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    timed('launch -> first line in `logs`', started);

    // Follow a live runner: it has printed its first line and waits; then let it finish.
    const follow = startCli(sandbox, ['logs', runner.id, '--follow']);
    await eventually('`logs --follow` prints the first line', () => follow.stdout() !== '', {
      timeoutMs: STATE_TIMEOUT_MS,
    });
    expect(follow.stdout()).toBe('hello \u2603\n');
    expect(['starting', 'running']).toContain((await sandbox.runner(runner.id)).state);
    writeFileSync(goFile, '');
    const followed = await follow.result;
    expectOk(followed);
    expect(followed.stdout).toBe('hello \u2603\nbye\n');
    expect(followed.stderr).toContain(`runner ${runner.id} ended (completed)`);
    expect(await sandbox.runner(runner.id)).toMatchObject({ state: 'completed', exitCode: 0 });

    const tail = await sandbox.cli(['logs', runner.id, '--tail', '1', '--json']);
    expectOk(tail);
    expect(JSON.parse(tail.stdout)).toEqual({
      runnerId: runner.id,
      content: 'bye\n',
      nextOffset: Buffer.byteLength('hello \u2603\nbye\n'),
      ended: true,
    });
  });

  it('8. kills the last runner and stops the daemon cleanly', async () => {
    const runner = need(third, 'runner 3');
    const result = await sandbox.cli(['kill', runner.id]);
    expectOk(result);
    const stopped = await eventuallyState(sandbox, runner.id, ['stopped', 'failed', 'completed']);
    expect(stopped.state).toBe('stopped');
    await eventuallyGone('runner 3 child', need(runner.pid, 'runner 3 pid'));
    await eventuallyGone('runner 3 agent', need(runner.agentPid, 'runner 3 agentPid'));

    const current = need(daemon, 'the daemon');
    const postgres = need(postmasterPid(sandbox.dataDir), 'the embedded PostgreSQL pid');
    expect(await current.stop()).toEqual({ code: 0, signal: null });
    await eventuallyGone('embedded PostgreSQL', postgres);
  });
});

describe('a queued launch through the CLI', () => {
  const sandbox = new Sandbox();

  afterAll(async () => {
    await sandbox.cleanup();
  }, 120_000);

  it('waits while the project is full and starts when a runner ends', async () => {
    let started = Date.now();
    const daemon = await sandbox.startDaemon(FAST_LIVENESS);
    timed('queue suite: daemon first start', started);
    expectOk(
      await sandbox.cli([
        'new',
        'solo',
        '--path',
        sandbox.projectDir,
        '--max-runners',
        '1',
        '--command',
        sandbox.tickingCommand(),
      ]),
    );
    const holder = await launch(sandbox, 'solo');

    const queuedResult = await sandbox.cli(['launch', 'solo', '--queue', '--json']);
    expectOk(queuedResult);
    const queued = JSON.parse(queuedResult.stdout) as {
      id: string;
      queued: boolean;
      position: number;
    };
    expect(queued.queued).toBe(true);
    expect(queued.position).toBeGreaterThanOrEqual(1);
    expect((await sandbox.runners('solo')).map((r) => r.id)).toEqual([holder.id]);

    await eventuallyState(sandbox, holder.id, ['running']);
    started = Date.now();
    expectOk(await sandbox.cli(['kill', holder.id]));
    const admitted = await eventually(
      'the queued launch becomes a running runner once the holder ends',
      async () => {
        const runners = await sandbox.runners('solo');
        const next = runners.find((r) => r.id !== holder.id);
        const old = runners.find((r) => r.id === holder.id);
        return old?.state === 'stopped' && next?.state === 'running' ? next : undefined;
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    timed('queue suite: kill holder -> queued launch running', started);

    expectOk(await sandbox.cli(['kill', admitted.id]));
    await eventuallyState(sandbox, admitted.id, ['stopped']);
    await eventuallyGone('the admitted runner child', need(admitted.pid, 'pid'));
    const postgres = need(postmasterPid(sandbox.dataDir), 'the embedded PostgreSQL pid');
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    await eventuallyGone('embedded PostgreSQL', postgres);
  });
});
