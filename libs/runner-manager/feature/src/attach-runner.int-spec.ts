import {
  buildEnvelope,
  type EventEnvelope,
  type HeartbeatSession,
  type ProjectReply,
  RunnerErrorCode,
  type SessionActivity,
} from '@stratavore/contracts';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { createTestDatabase, type TestDatabase, uniqueName } from '@stratavore/testing';
import { Client } from 'pg';

import { AttachRunner } from './attach-runner.use-case';
import { FakeBudgetGate, grant, refuse } from './budget-gate.test-support';
import { HeartbeatSignalsConsumer } from './heartbeat-signals.consumer';
import { CreateProject } from './project.use-cases';
import { RunnerQueries, StopRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import {
  FakeLauncher,
  migrateMessaging,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { hashRunnerToken, randomRunnerTokens } from './runner-token';
import { SessionSignalsConsumer } from './session-signals.consumer';

const ctx = { correlationId: 'attach-corr' };
const SESSION = '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40';

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('attached runners and Claude Code activity on PostgreSQL', () => {
  let db: TestDatabase;
  let store: RunnerManagerStore;
  let launcher: FakeLauncher;
  let deps: RunnerManagerDeps;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDatabase('runner_attach');
    await migrateMessaging(db.url);
    store = await RunnerManagerStore.open(db.url, { poolSize: 4 });
  });

  beforeEach(() => {
    launcher = new FakeLauncher();
    deps = {
      ...testDeps(),
      store,
      tokens: randomRunnerTokens,
      launcher,
      signingKey: TEST_SIGNING_KEY,
    };
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  async function project(maxRunners = 1): Promise<ProjectReply> {
    const name = uniqueName('att').slice(0, 40);
    return new CreateProject(deps).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command: ['claude'],
      maxRunners,
      env: [],
    });
  }

  function attach(projectName: string, extra: object = {}) {
    return new AttachRunner(deps).execute(
      {
        project: projectName,
        host: 'laptop',
        command: ['claude', '--session-id', SESSION],
        ...extra,
      },
      ctx,
    );
  }

  async function outbox(
    subject: string,
  ): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    return sql(
      db.url,
      `SELECT type, payload->'data' AS data FROM messaging.outbox
       WHERE subject = $1 ORDER BY position`,
      [subject],
    );
  }

  /** An event of heartbeat-ingest (`data` is checked against its contract). */
  function envelope(
    type: 'session.reported' | 'heartbeat.first-received' | 'heartbeat.exited',
    data: object,
  ): EventEnvelope {
    return buildEnvelope(
      {
        type,
        version: 1,
        source: 'heartbeat-ingest',
        subject: 'x',
        correlationId: 'hb',
        data: data as never,
      },
      { clock: deps.clock, ids: deps.ids, signingKey: TEST_SIGNING_KEY },
    );
  }

  /** heartbeat-ingest's `session.reported` with `activity`, as the consumer receives it. */
  function reported(runnerId: string, projectId: string, activity?: SessionActivity) {
    const session: HeartbeatSession = {
      sessionId: SESSION,
      models: {},
      turns: 0,
      costUsd: 0,
      reportedCostUsd: null,
      cwd: '/srv/x',
      transcriptPath: null,
      resumedFrom: null,
      waitingForInput: activity !== undefined && activity.state !== 'working',
      ...(activity === undefined ? {} : { activity }),
      result: null,
    };
    const event = envelope('session.reported', {
      runnerId,
      projectId,
      seq: ++seq,
      observedAt: deps.clock.now().toISOString(),
      session,
    });
    return { envelope: event, routingKey: event.type, attempt: 1 };
  }

  async function firstHeartbeat(runnerId: string, projectId: string) {
    const event = envelope('heartbeat.first-received', {
      runnerId,
      projectId,
      seq: 1,
      pid: 5150,
      sessionId: SESSION,
      receivedAt: deps.clock.now().toISOString(),
    });
    expect(
      await new HeartbeatSignalsConsumer(deps).handle({
        envelope: event,
        routingKey: event.type,
        attempt: 1,
      }),
    ).toBe('ack');
  }

  const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, second)).toISOString();

  it('admits an attached runner like a launch, starts nothing, and hands out its token', async () => {
    const p = await project();
    const reply = await attach(p.name, { cwd: '/home/me/wt' });

    expect(reply.runner).toMatchObject({
      state: 'starting',
      mode: 'interactive',
      attached: true,
      host: 'laptop',
      cwd: '/home/me/wt',
      agentPid: null,
      command: ['claude', '--session-id', SESSION],
      prompt: null,
      activity: null,
    });
    expect(reply).toMatchObject({
      heartbeatUrl: 'http://127.0.0.1:7414',
      heartbeatIntervalMs: 10_000,
    });
    expect(launcher.launches).toEqual([]);
    const [row] = await sql<{ token_hash: string; attached: boolean }>(
      db.url,
      'SELECT token_hash, attached FROM runner.runners WHERE id = $1',
      [reply.runner.id],
    );
    expect(row).toEqual({ token_hash: hashRunnerToken(reply.token), attached: true });
    const events = await outbox(reply.runner.id);
    expect(events.map((e) => e.type)).toEqual(['runner.launched', 'runner.starting']);
    expect(events[0]?.data).toMatchObject({
      launcher: 'attached',
      mode: 'interactive',
      cwd: '/home/me/wt',
      tokenHash: hashRunnerToken(reply.token),
    });
    expect(JSON.stringify(events)).not.toContain(reply.token);

    // The project holds one runner: the next attach is refused, never queued.
    await expect(attach(p.name)).rejects.toMatchObject({
      code: RunnerErrorCode.QuotaExceeded,
      message: expect.stringContaining(`${reply.runner.id} (starting)`) as string,
    });
  });

  it('reserves the estimate first: a refused budget registers nothing, a full project releases it', async () => {
    const budgets = new FakeBudgetGate().answer(refuse('daily budget spent'), grant(), grant());
    deps = { ...deps, budgets };
    const p = await project();
    await expect(attach(p.name, { estimateTokens: 50_000 })).rejects.toMatchObject({
      code: RunnerErrorCode.BudgetExceeded,
      message: 'daily budget spent',
    });
    const reply = await attach(p.name);
    expect(budgets.reservations.map((r) => r.estimate)).toEqual([
      { tokens: 50_000, usd: 0 },
      { tokens: 0, usd: 0 },
    ]);
    // The runner takes the id its reservation was made for.
    expect(reply.runner.id).toBe(budgets.reservations[1]?.runnerId);
    await expect(attach(p.name)).rejects.toMatchObject({ code: RunnerErrorCode.QuotaExceeded });
    expect(budgets.releases).toEqual([budgets.reservations[2]?.reservationId]);
    budgets.assertSatisfied();
  });

  it('moves a live runner running <-> waiting <-> idle once per change, in order', async () => {
    const p = await project();
    const { runner } = await attach(p.name);
    const consumer = new SessionSignalsConsumer(deps);

    // Still starting: the runner keeps the activity, and goes idle right after running.
    const early = reported(runner.id, p.id, {
      state: 'idle',
      reason: 'SessionStart',
      message: null,
      since: at(1),
    });
    expect(await consumer.handle(early)).toBe('ack');
    expect(await new RunnerQueries(deps).get({ runner: runner.id })).toMatchObject({
      state: 'starting',
      activity: { state: 'idle', reason: 'SessionStart' },
    });
    await firstHeartbeat(runner.id, p.id);
    expect(await consumer.handle(early)).toBe('ack');

    const waiting: SessionActivity = {
      state: 'waiting',
      reason: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
      since: at(5),
    };
    const wait = reported(runner.id, p.id, waiting);
    expect(await consumer.handle(wait)).toBe('ack');
    // The same event again, and an older snapshot arriving late, change nothing.
    expect(await consumer.handle(wait)).toBe('ack');
    expect(
      await consumer.handle(
        reported(runner.id, p.id, {
          state: 'working',
          reason: 'PostToolUse',
          message: null,
          since: at(3),
        }),
      ),
    ).toBe('ack');
    const queries = new RunnerQueries(deps);
    expect(await queries.get({ runner: runner.id })).toMatchObject({
      state: 'waiting',
      sessionId: SESSION,
      activity: waiting,
    });

    await consumer.handle(
      reported(runner.id, p.id, {
        state: 'working',
        reason: 'PostToolUse',
        message: null,
        since: at(12),
      }),
    );
    await consumer.handle(
      reported(runner.id, p.id, { state: 'idle', reason: 'Stop', message: null, since: at(20) }),
    );
    expect((await queries.get({ runner: runner.id })).state).toBe('idle');

    const events = (await outbox(runner.id)).filter((e) =>
      ['runner.running', 'runner.waiting', 'runner.idle', 'runner.resumed-work'].includes(e.type),
    );
    expect(events).toEqual([
      { type: 'runner.running', data: expect.objectContaining({ pid: 5150 }) as object },
      {
        type: 'runner.idle',
        data: {
          runnerId: runner.id,
          projectId: p.id,
          reason: 'SessionStart',
          since: at(1),
          sessionId: SESSION,
        },
      },
      {
        type: 'runner.waiting',
        data: {
          runnerId: runner.id,
          projectId: p.id,
          reason: 'permission_prompt',
          message: 'Claude needs your permission to use Bash',
          since: at(5),
          sessionId: SESSION,
        },
      },
      {
        type: 'runner.resumed-work',
        data: expect.objectContaining({
          from: 'waiting',
          since: at(12),
          waitedMs: 7_000,
        }) as object,
      },
      {
        type: 'runner.idle',
        data: expect.objectContaining({ reason: 'Stop', since: at(20) }) as object,
      },
    ]);
  });

  it('stops a waiting attached runner through its heartbeats: no signal, no reap', async () => {
    const p = await project();
    const { runner } = await attach(p.name);
    await firstHeartbeat(runner.id, p.id);
    await new SessionSignalsConsumer(deps).handle(
      reported(runner.id, p.id, {
        state: 'waiting',
        reason: 'idle_prompt',
        message: null,
        since: at(2),
      }),
    );
    const stopping = await new StopRunner(deps).execute({ runner: runner.id, force: true }, ctx);
    expect(stopping).toMatchObject({ state: 'stopping', desiredState: 'kill' });
    expect(launcher.signals).toEqual([]);
    expect(launcher.reaped).toEqual([]);

    // Its agent reports the end it was told to make.
    const exited = envelope('heartbeat.exited', {
      runnerId: runner.id,
      projectId: p.id,
      outcome: 'stopped',
      exitCode: null,
      signal: 'SIGTERM',
      sessionId: SESSION,
      receivedAt: deps.clock.now().toISOString(),
    });
    await new HeartbeatSignalsConsumer(deps).handle({
      envelope: exited,
      routingKey: exited.type,
      attempt: 1,
    });
    expect(await new RunnerQueries(deps).get({ runner: runner.id })).toMatchObject({
      state: 'stopped',
      signal: 'SIGTERM',
    });
    expect(launcher.reaped).toEqual([]);
  });
});
