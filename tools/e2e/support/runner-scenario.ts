// The runners scenario as a user drives it through the CLI, written once against whatever runs
// the system: the single-node daemon, or every service as its own process. The steps share one
// system and run in order; a failed step does not stop the later ones, which say so when they
// lack what it made.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  type CliResult,
  describeCli,
  eventually,
  GiveUp,
  isAlive,
  type RunnerView,
  type Sandbox,
} from './e2e-harness';

/** How fast agents report and the detector looks; the system under test is started with these. */
export interface LivenessTiming {
  readonly heartbeatIntervalMs: number;
  readonly staleCheckIntervalMs: number;
  /** The detector's `STALE_AFTER_INTERVALS`. */
  readonly staleAfterIntervals: number;
}

/** What the scenario needs from the system under test. */
export interface RunnerSystem {
  /** `the single-node daemon`, `every service as its own process`: names the timings. */
  readonly label: string;
  readonly sandbox: Sandbox;
  readonly liveness: LivenessTiming;
  /** Starts the system with the sandbox's CLI pointed at it. */
  start(): Promise<void>;
  /**
   * Stops what a restart stops and checks each process exited cleanly (SIGTERM, exit 0). The
   * runners' agents are detached and must outlive it.
   */
  stopForRestart(): Promise<void>;
  /**
   * Starts it again on the same ports (agents keep their heartbeat URL), with a stale grace
   * covering the agents' retry backoff; resolves when it serves requests.
   */
  startAfterRestart(): Promise<void>;
  /** Stops everything and checks the clean exits. */
  stop(): Promise<void>;
  /** Adds what helps to read a failure (the services' logs). */
  explain(error: unknown): Error;
  /** Stops whatever still runs, removes what the suite created. */
  cleanup(): Promise<void>;
}

/** Generous on a loaded 2-core machine; every wait still has one. */
export const STATE_TIMEOUT_MS = 60_000;
const PROCESS_GONE_TIMEOUT_MS = 20_000;
const RESUME_TIMEOUT_MS = 90_000;
const START_TIMEOUT_MS = 240_000;

const ENDED = ['failed', 'stopped', 'completed'];

const timings: string[] = [];

/** Records how long something took since `since` (printed by {@link printTimings}). */
export function timed(label: string, since: number): number {
  const ms = Date.now() - since;
  timings.push(`${label}: ${ms} ms`);
  return ms;
}

export function note(line: string): void {
  timings.push(line);
}

/** Prints what {@link timed} recorded; call from a file's `afterAll`. */
export function printTimings(): void {
  if (timings.length > 0) process.stdout.write(`\ne2e timings:\n  ${timings.join('\n  ')}\n`);
}

export function expectOk(result: CliResult): void {
  if (result.code !== 0) throw new Error(describeCli(result));
}

/** oclif wraps long errors and prefixes lines with `›`; one line for matching. */
export function flatten(text: string): string {
  return text.replace(/›/g, ' ').replace(/\s+/g, ' ').trim();
}

export async function launch(
  sandbox: Sandbox,
  project: string,
  extra: readonly string[] = [],
): Promise<RunnerView> {
  const result = await sandbox.cli(['launch', project, '--json', ...extra]);
  expectOk(result);
  const runner = JSON.parse(result.stdout) as RunnerView;
  sandbox.track([runner]);
  return runner;
}

export async function eventuallyState(
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

export async function eventuallyGone(what: string, pid: number): Promise<void> {
  await eventually(`${what} (pid ${pid}) exits`, () => !isAlive(pid), {
    timeoutMs: PROCESS_GONE_TIMEOUT_MS,
  });
}

export function summary(runners: readonly RunnerView[]): string {
  return runners
    .map(
      (r) =>
        `${r.id} ${r.state} pid=${r.pid} failureReason=${r.failureReason} lastHeartbeatAt=${r.lastHeartbeatAt}`,
    )
    .join('; ');
}

export function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`an earlier step failed: ${what} is unknown`);
  }
  return value;
}

/**
 * Declares the scenario's steps (in the caller's `describe`): a project with a quota of 2, two
 * runners and a refused third, heartbeats, `kill`, a SIGKILLed agent failed for
 * `heartbeat_timeout` within 3 intervals (plus the detector's period and a second), a restart
 * the last runner survives with its heartbeats resuming, a queued launch that starts when a
 * runner ends, and a clean stop. Between the restart and the queue, `logs` and `logs --follow`
 * read a runner's output.
 */
export function describeRunnerScenario(system: RunnerSystem): void {
  const { sandbox, liveness } = system;
  let first: RunnerView | undefined;
  let second: RunnerView | undefined;
  let third: RunnerView | undefined;
  let fourth: RunnerView | undefined;
  let admitted: RunnerView | undefined;
  let logged: RunnerView | undefined;

  const step = (name: string, body: () => Promise<void>, timeoutMs?: number) =>
    it(
      name,
      async () => {
        try {
          await body();
        } catch (error) {
          throw system.explain(error);
        }
      },
      timeoutMs,
    );

  beforeAll(async () => {
    const started = Date.now();
    try {
      await system.start();
    } catch (error) {
      throw system.explain(error);
    }
    timed(`${system.label}: first start`, started);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await system.cleanup();
  }, 180_000);

  step('1. creates a project with a quota of 2', async () => {
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

  step(
    '2. launches two runners and refuses a third, naming the quota and its holders',
    async () => {
      first = await launch(sandbox, 'e2e');
      second = await launch(sandbox, 'e2e');
      expect(first.id).not.toBe(second.id);

      const refused = await sandbox.cli(['launch', 'e2e']);
      expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 4, stdout: '' });
      const message = flatten(refused.stderr);
      expect(message).toContain('allows 2 concurrent runners');
      expect(message).toContain(first.id);
      expect(message).toContain(second.id);
    },
  );

  step('3. shows both runners running, with pids and a heartbeat', async () => {
    const ids = [need(first, 'runner 1').id, need(second, 'runner 2').id];
    const started = Date.now();
    const running = await eventually(
      'both runners are `running` with a pid',
      async () => {
        const runners = (await sandbox.runners('e2e')).filter((r) => ids.includes(r.id));
        if (runners.some((r) => ENDED.includes(r.state))) {
          throw new GiveUp(`a runner ended: ${summary(runners)}`);
        }
        if (runners.length === 2 && runners.every((r) => r.state === 'running' && r.pid)) {
          return runners;
        }
        throw new Error(summary(runners));
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    timed(`${system.label}: two launches -> both running`, started);
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

    // Liveness enrichment: the runner reply carries the last heartbeat's time, and it advances.
    const seen = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
    await eventually(
      'both running runners show a lastHeartbeatAt that advances',
      async () => {
        const runners = (await sandbox.runners('e2e')).filter((r) => ids.includes(r.id));
        for (const runner of runners) {
          if (runner.lastHeartbeatAt) seen.get(runner.id)?.add(runner.lastHeartbeatAt);
        }
        return [...seen.values()].every((times) => times.size >= 2);
      },
      { timeoutMs: 10 * liveness.heartbeatIntervalMs + 10_000 },
    );
  });

  step('4. `kill` stops runner 1 and its child process', async () => {
    const runner = need(first, 'runner 1');
    const child = need(runner.pid, 'runner 1 pid');
    const started = Date.now();
    expectOk(await sandbox.cli(['kill', runner.id]));
    const stopped = await eventuallyState(sandbox, runner.id, ENDED);
    timed(`${system.label}: kill -> stopped`, started);
    expect(stopped).toMatchObject({ state: 'stopped', failureReason: null });
    await eventuallyGone('runner 1 child', child);
    await eventuallyGone('runner 1 agent', need(runner.agentPid, 'runner 1 agentPid'));
  });

  step(
    '5. a SIGKILLed agent fails its runner with heartbeat_timeout within the bound',
    async () => {
      const runner = need(second, 'runner 2');
      const agentPid = need(runner.agentPid, 'runner 2 agentPid');
      const boundMs =
        liveness.staleAfterIntervals * liveness.heartbeatIntervalMs +
        liveness.staleCheckIntervalMs +
        1_000;
      const killedAt = Date.now();
      process.kill(agentPid, 'SIGKILL');
      const failed = await eventuallyState(sandbox, runner.id, ENDED);
      const seenMs = Date.now() - killedAt;
      const endedMs = Date.parse(need(failed.endedAt, 'endedAt of the failed runner')) - killedAt;
      note(
        `${system.label}: agent SIGKILL -> failed: endedAt +${endedMs} ms (seen by CLI +${seenMs} ms), bound ${boundMs} ms`,
      );
      expect(failed).toMatchObject({ state: 'failed', failureReason: 'heartbeat_timeout' });
      expect(endedMs).toBeLessThanOrEqual(boundMs);
    },
  );

  step('6. a runner survives a restart and its heartbeats resume', async () => {
    // The SIGKILLed agent's child is reaped by the product; should it not be, it is ours to end.
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

    let started = Date.now();
    await system.stopForRestart();
    timed(`${system.label}: SIGTERM -> exit`, started);
    expect(isAlive(need(before.agentPid, 'agentPid'))).toBe(true);
    expect(isAlive(need(before.pid, 'pid'))).toBe(true);

    started = Date.now();
    await system.startAfterRestart();
    const restartedAt = Date.now();
    timed(`${system.label}: restart -> ready`, started);

    const seen: string[] = [];
    await eventually(
      'runner 3 is still running and its lastHeartbeatAt advances twice after the restart',
      async () => {
        const runner = await sandbox.runner(id);
        if (ENDED.includes(runner.state)) {
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
    timed(`${system.label}: restart -> heartbeats resumed (2 new lastHeartbeatAt)`, restartedAt);
    expect(isAlive(need(before.agentPid, 'agentPid'))).toBe(true);
  });

  step(
    "7. `logs` prints a runner's output; `logs --follow` exits by itself once it ended",
    async () => {
      // Prints a line, waits for the test's go-ahead (a file in the project dir), prints another.
      // The sandbox marker as $0: the cleanup sweep finds the shell by it.
      const goFile = join(sandbox.projectDir, 'logs-e2e.go');
      const script =
        'echo "hello \u2603"; while [ ! -e logs-e2e.go ]; do sleep 0.1; done; echo bye';
      const runner = await launch(sandbox, 'e2e', ['--', 'sh', '-c', script, sandbox.marker]);
      logged = runner;

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
      timed(`${system.label}: launch -> first line in \`logs\``, started);

      // Follow a live runner: it has printed its first line and waits; then let it finish.
      const follow = sandbox.startCli(['logs', runner.id, '--follow']);
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
    },
  );

  step(
    '8. a queued launch waits while the project is full and starts when a runner ends',
    async () => {
      need(third, 'runner 3');
      fourth = await launch(sandbox, 'e2e');
      const queuedResult = await sandbox.cli(['launch', 'e2e', '--queue', '--json']);
      expectOk(queuedResult);
      const queued = JSON.parse(queuedResult.stdout) as {
        id: string;
        queued: boolean;
        position: number;
      };
      expect(queued).toMatchObject({ queued: true });
      expect(queued.position).toBeGreaterThanOrEqual(1);

      const holder = await eventuallyState(sandbox, fourth.id, ['running']);
      fourth = holder;
      const started = Date.now();
      expectOk(await sandbox.cli(['kill', holder.id]));
      admitted = await eventually(
        'the queued launch becomes a running runner once runner 4 ends',
        async () => {
          const runners = await sandbox.runners('e2e');
          const old = runners.find((r) => r.id === holder.id);
          const known = [first, second, third, fourth, logged].map((r) => r?.id);
          const next = runners.find((r) => !known.includes(r.id));
          return old?.state === 'stopped' && next?.state === 'running' ? next : undefined;
        },
        { timeoutMs: STATE_TIMEOUT_MS },
      );
      timed(`${system.label}: kill holder -> queued launch running`, started);
      await eventuallyGone('runner 4 child', need(holder.pid, 'runner 4 pid'));
    },
  );

  step('9. kills the last runners and stops cleanly', async () => {
    for (const runner of [need(third, 'runner 3'), need(admitted, 'the admitted runner')]) {
      expectOk(await sandbox.cli(['kill', runner.id]));
      const stopped = await eventuallyState(sandbox, runner.id, ENDED);
      expect(stopped.state).toBe('stopped');
      await eventuallyGone('its child', need(runner.pid, 'pid'));
      await eventuallyGone('its agent', need(runner.agentPid, 'agentPid'));
    }
    await system.stop();
  });
}
