import {
  buildEnvelope,
  type EventEnvelope,
  type HeartbeatSession,
  type ProjectReply,
  type RunnerReply,
  type SessionResult,
} from '@stratavore/contracts';
import { type ManualClock } from '@stratavore/core';
import { AdvisoryLeadership } from '@stratavore/persistence';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { CreateProject } from './project.use-cases';
import { RestartScheduler } from './restart-scheduler';
import { LaunchRunner, RunnerQueries, StopRunner, TransitionRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import {
  FakeLauncher,
  migrateMessaging,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { randomRunnerTokens } from './runner-token';
import { SessionSignalsConsumer } from './session-signals.consumer';

const ctx = { correlationId: 'restart-corr' };
const HEADLESS = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];
const ALWAYS_LEADER = { isLeader: () => true };

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('restart policy on PostgreSQL', () => {
  let db: TestDatabase;
  let storeA: RunnerManagerStore;
  let storeB: RunnerManagerStore;
  let launcher: FakeLauncher;
  let clock: ManualClock;
  let depsA: RunnerManagerDeps;
  let depsB: RunnerManagerDeps;

  beforeAll(async () => {
    db = await createTestDatabase('runner_restarts');
    await migrateMessaging(db.url);
    // Two stores: two runner-manager processes on one database.
    [storeA, storeB] = await Promise.all([
      RunnerManagerStore.open(db.url, { poolSize: 6 }),
      RunnerManagerStore.open(db.url, { poolSize: 6 }),
    ]);
  });

  beforeEach(() => {
    launcher = new FakeLauncher();
    const base = testDeps();
    clock = base.clock;
    const shared = {
      ...base,
      tokens: randomRunnerTokens,
      launcher,
      signingKey: TEST_SIGNING_KEY,
      restartBackoff: { baseMs: 1_000, maxMs: 8_000 },
      // No jitter: the first restart comes after half its 1 s step.
      random: () => 0,
    };
    depsA = { ...shared, store: storeA };
    depsB = { ...shared, store: storeB };
  });

  afterAll(async () => {
    await storeA?.close();
    await storeB?.close();
    await db?.drop();
  });

  async function project(extra: object = {}): Promise<ProjectReply> {
    const name = uniqueName('p').slice(0, 40);
    return new CreateProject(depsA).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command: ['claude'],
      maxRunners: 2,
      env: [],
      ...extra,
    });
  }

  async function launch(projectId: string, extra: object = {}): Promise<RunnerReply> {
    const reply = await new LaunchRunner(depsA).execute(
      {
        project: projectId,
        prompt: 'fix the flaky test',
        mode: 'headless',
        queue: false,
        restart: 'on-failure',
        maxRestarts: 2,
        ...extra,
      },
      ctx,
    );
    if (reply.status !== 'launched') throw new Error('expected a launch');
    return reply.runner;
  }

  async function running(runnerId: string): Promise<void> {
    await new TransitionRunner(depsA).execute({ runnerId, to: 'running', pid: 4242 }, ctx);
  }

  async function fail(runnerId: string): Promise<RunnerReply> {
    return new TransitionRunner(depsA).execute(
      { runnerId, to: 'failed', failureReason: 'nonzero_exit', exitCode: 1 },
      ctx,
    );
  }

  function get(runnerId: string): Promise<RunnerReply> {
    return new RunnerQueries(depsA).get({ runner: runnerId });
  }

  /** heartbeat-ingest's `session.reported`, as runner-manager's consumer receives it. */
  async function reportSession(
    runner: RunnerReply,
    sessionId: string,
    result: SessionResult | null = null,
  ): Promise<void> {
    const session: HeartbeatSession = {
      sessionId,
      models: {},
      turns: 1,
      costUsd: null,
      reportedCostUsd: null,
      cwd: `/srv/${runner.project.name}`,
      transcriptPath: null,
      resumedFrom: null,
      waitingForInput: false,
      result,
    };
    const envelope: EventEnvelope = buildEnvelope(
      {
        type: 'session.reported',
        version: 1,
        source: 'heartbeat-ingest',
        subject: runner.id,
        correlationId: 'hb-corr',
        data: {
          runnerId: runner.id,
          projectId: runner.project.id,
          seq: 3,
          observedAt: clock.now().toISOString(),
          session,
        },
      },
      { clock, ids: depsA.ids, signingKey: TEST_SIGNING_KEY },
    );
    const delivered = { envelope, routingKey: envelope.type, attempt: 1 };
    expect(await new SessionSignalsConsumer(depsA).handle(delivered)).toBe('ack');
    // A redelivery is acknowledged and changes nothing.
    expect(await new SessionSignalsConsumer(depsA).handle(delivered)).toBe('ack');
  }

  async function outbox(subject: string, type: string): Promise<Array<Record<string, unknown>>> {
    const rows = await sql<{ data: Record<string, unknown> }>(
      db.url,
      `SELECT payload->'data' AS data FROM messaging.outbox
       WHERE subject = $1 AND type = $2 ORDER BY position`,
      [subject, type],
    );
    return rows.map((row) => row.data);
  }

  async function replacementsOf(runnerId: string): Promise<string[]> {
    const rows = await sql<{ id: string }>(
      db.url,
      'SELECT id FROM runner.runners WHERE restart_of = $1',
      [runnerId],
    );
    return rows.map((row) => row.id);
  }

  it('relaunches a failed Claude runner after the backoff, resuming its session', async () => {
    const p = await project();
    const original = await launch(p.id);
    expect(original.command).toEqual(HEADLESS);
    expect(original).toMatchObject({ restartPolicy: 'on-failure', maxRestarts: 2, restarts: 0 });
    await running(original.id);
    await reportSession(original, 'sess-A');
    const failed = await fail(original.id);

    expect(failed.restart).toMatchObject({
      attempt: 1,
      reason: 'backoff',
      state: 'scheduled',
      resumeSessionId: 'sess-A',
      at: new Date(clock.now().getTime() + 500).toISOString(),
    });
    expect(await outbox(original.id, 'runner.restart-scheduled')).toEqual([
      expect.objectContaining({ attempt: 1, maxRestarts: 2, resumeSessionId: 'sess-A' }),
    ]);

    // Another runner-manager process (store B) relaunches it, but only once it is due.
    const scheduler = new RestartScheduler(depsB, ALWAYS_LEADER);
    clock.advance(499);
    expect(await scheduler.tick()).toEqual({ kind: 'checked', settled: [] });
    clock.advance(1);
    const tick = await scheduler.tick();
    expect(tick).toMatchObject({ kind: 'checked', settled: [{ state: 'launched' }] });

    const [replacementId] = await replacementsOf(original.id);
    const replacement = await get(replacementId ?? '');
    expect(replacement).toMatchObject({
      state: 'starting',
      restartOf: original.id,
      restarts: 1,
      restartPolicy: 'on-failure',
      maxRestarts: 2,
      resumedFrom: 'sess-A',
      cwd: p.path,
      prompt: 'continue',
      command: [...HEADLESS, '--resume', 'sess-A'],
    });
    expect(launcher.launches.at(-1)?.runner.id).toBe(replacement.id);
    expect(await outbox(replacement.id, 'runner.launched')).toEqual([
      expect.objectContaining({ restartOf: original.id, restarts: 1, resumedFrom: 'sess-A' }),
    ]);
    expect((await get(original.id)).restart).toMatchObject({
      state: 'launched',
      replacementId: replacement.id,
    });
    // Settled: nothing more to do.
    expect(await scheduler.tick()).toEqual({ kind: 'checked', settled: [] });
  });

  it('stops after maxRestarts and backs off exponentially in between', async () => {
    const p = await project({ command: ['bash', '-c', 'exit 1'] });
    let current = await launch(p.id, { prompt: 'x', maxRestarts: 2 });
    const scheduler = new RestartScheduler(depsA, ALWAYS_LEADER);
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const failed = await fail(current.id);
      const at = Date.parse(failed.restart?.at ?? '');
      waits.push(at - clock.now().getTime());
      clock.set(new Date(at));
      await scheduler.tick();
      const [next] = await replacementsOf(current.id);
      current = await get(next ?? '');
      // Not Claude: the same command and prompt, afresh.
      expect(current).toMatchObject({ restarts: attempt, command: ['bash', '-c', 'exit 1'] });
      expect(current.prompt).toBe('x');
      expect(current.resumedFrom).toBeNull();
    }
    expect(waits).toEqual([500, 1_000]);
    const last = await fail(current.id);
    expect(last.restart).toBeNull();
    expect(await replacementsOf(current.id)).toEqual([]);
  });

  it('never restarts a runner stopped by a user, or without the policy', async () => {
    const p = await project();
    const stopped = await launch(p.id);
    await running(stopped.id);
    await new StopRunner(depsA).execute({ runner: stopped.id, force: false }, ctx);
    // The agent ends on the signal with an error code: still a stop, not a failure.
    const ended = await new TransitionRunner(depsA).execute(
      { runnerId: stopped.id, to: 'failed', failureReason: 'killed' },
      ctx,
    );
    expect(ended.restart).toBeNull();

    const plain = await launch(p.id, { restart: 'no', maxRestarts: undefined });
    expect(plain).toMatchObject({ restartPolicy: 'no', maxRestarts: 0 });
    expect((await fail(plain.id)).restart).toBeNull();

    clock.advance(60_000);
    expect(await new RestartScheduler(depsA, ALWAYS_LEADER).tick()).toEqual({
      kind: 'checked',
      settled: [],
    });
    expect(await outbox(stopped.id, 'runner.restart-scheduled')).toEqual([]);
    expect(await outbox(plain.id, 'runner.restart-scheduled')).toEqual([]);
  });

  it('resumes a usage-limit stop at the reset time, whichever event comes first', async () => {
    const p = await project();
    const resetAt = new Date(clock.now().getTime() + 5 * 3_600_000).toISOString();
    const usageLimit: SessionResult = {
      subtype: 'error_during_execution',
      isError: true,
      resumable: true,
      resumeAt: resetAt,
    };

    // The result before the failure.
    const first = await launch(p.id);
    await running(first.id);
    await reportSession(first, 'sess-1', usageLimit);
    expect((await fail(first.id)).restart).toMatchObject({
      reason: 'usage_limit',
      at: resetAt,
      resumeSessionId: 'sess-1',
    });

    // The failure before the result: planned with the backoff, then moved to the reset.
    const second = await launch(p.id);
    await running(second.id);
    expect((await fail(second.id)).restart).toMatchObject({
      reason: 'backoff',
      resumeSessionId: null,
    });
    await reportSession(second, 'sess-2', usageLimit);
    expect((await get(second.id)).restart).toMatchObject({
      reason: 'usage_limit',
      at: resetAt,
      resumeSessionId: 'sess-2',
    });
    expect(await outbox(second.id, 'runner.restart-scheduled')).toEqual([
      expect.objectContaining({ reason: 'backoff', resumeSessionId: null }),
      expect.objectContaining({ reason: 'usage_limit', restartAt: resetAt }),
    ]);

    const scheduler = new RestartScheduler(depsA, ALWAYS_LEADER);
    clock.advance(60_000);
    expect(await scheduler.tick()).toEqual({ kind: 'checked', settled: [] });
    clock.set(resetAt);
    const tick = await scheduler.tick();
    expect(tick.kind === 'checked' ? tick.settled.map((plan) => plan.state) : []).toEqual([
      'launched',
      'launched',
    ]);
    const [resumed] = await replacementsOf(second.id);
    expect((await get(resumed ?? '')).command).toEqual([...HEADLESS, '--resume', 'sess-2']);
  });

  it('cancels a planned restart when the session shows a limit the user set', async () => {
    const p = await project();
    const runner = await launch(p.id);
    await running(runner.id);
    expect((await fail(runner.id)).restart?.state).toBe('scheduled');
    await reportSession(runner, 'sess-t', {
      subtype: 'error_max_turns',
      isError: true,
      resumable: true,
      resumeAt: null,
    });
    expect((await get(runner.id)).restart).toMatchObject({
      state: 'cancelled',
      detail: 'reached a limit set for it (error_max_turns)',
    });
    expect(await outbox(runner.id, 'runner.restart-cancelled')).toEqual([
      expect.objectContaining({ reason: 'reached a limit set for it (error_max_turns)' }),
    ]);
  });

  it('cancels a scheduled restart when the ended runner is stopped (kill)', async () => {
    const p = await project();
    const runner = await launch(p.id);
    await running(runner.id);
    expect((await fail(runner.id)).restart?.state).toBe('scheduled');
    const signalsBefore = launcher.signals.length;

    const stopped = await new StopRunner(depsA).execute({ runner: runner.id, force: false }, ctx);

    expect(stopped).toMatchObject({
      state: 'failed',
      restart: { state: 'cancelled', detail: 'cancelled by a user' },
    });
    expect(launcher.signals).toHaveLength(signalsBefore);
    clock.advance(60_000);
    expect(await new RestartScheduler(depsA, ALWAYS_LEADER).tick()).toEqual({
      kind: 'checked',
      settled: [],
    });
    await expect(
      new StopRunner(depsA).execute({ runner: runner.id, force: false }, ctx),
    ).rejects.toMatchObject({ code: 'RUNNER_ALREADY_ENDED' });
  });

  it('queues the replacement when the project is full, and admits it with its origin', async () => {
    const p = await project({ maxRunners: 1 });
    const original = await launch(p.id);
    await running(original.id);
    await reportSession(original, 'sess-q');
    await fail(original.id);
    const blocker = await launch(p.id, { restart: 'no', maxRestarts: undefined });
    clock.advance(1_000);
    const tick = await new RestartScheduler(depsA, ALWAYS_LEADER).tick();
    expect(tick).toMatchObject({ settled: [{ state: 'queued' }] });
    expect(await replacementsOf(original.id)).toEqual([]);

    await running(blocker.id);
    await new TransitionRunner(depsA).execute(
      { runnerId: blocker.id, to: 'completed', exitCode: 0 },
      ctx,
    );
    const [admitted] = await replacementsOf(original.id);
    expect(await get(admitted ?? '')).toMatchObject({
      restartOf: original.id,
      restarts: 1,
      resumedFrom: 'sess-q',
      command: [...HEADLESS, '--resume', 'sess-q'],
    });
  });

  it('relaunches once with two runner-manager processes: one leads, and the plan row decides', async () => {
    const p = await project();
    const key = uniqueName('restart-leader');
    const leaderships = [0, 1].map(
      () => new AdvisoryLeadership({ url: db.url, key, intervalMs: 100 }),
    );
    const schedulers = [
      new RestartScheduler(depsA, leaderships[0] as AdvisoryLeadership),
      new RestartScheduler(depsB, leaderships[1] as AdvisoryLeadership),
    ];
    try {
      for (const leadership of leaderships) leadership.start();
      await waitFor(() => leaderships.some((l) => l.isLeader()), {
        description: 'a leader to be elected',
      });
      expect(leaderships.filter((l) => l.isLeader())).toHaveLength(1);

      const a = await launch(p.id);
      await fail(a.id);
      clock.advance(1_000);
      const ticks = await Promise.all(schedulers.map((s) => s.tick()));
      expect(ticks.map((t) => t.kind).sort()).toEqual(['checked', 'not-leader']);
      expect(await replacementsOf(a.id)).toHaveLength(1);

      // Even two processes that both believe they lead relaunch a plan once.
      const b = await launch(p.id);
      await fail(b.id);
      clock.advance(1_000);
      await Promise.all([
        new RestartScheduler(depsA, ALWAYS_LEADER).tick(),
        new RestartScheduler(depsB, ALWAYS_LEADER).tick(),
      ]);
      expect(await replacementsOf(b.id)).toHaveLength(1);
      expect(await outbox(b.id, 'runner.restart-scheduled')).toHaveLength(1);
    } finally {
      await Promise.all(leaderships.map((l) => l.stop()));
    }
  });
});
