import { randomUUID } from 'node:crypto';

import { buildEnvelope, type EventEnvelope, RunnerErrorCode } from '@stratavore/contracts';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { RunnerException } from '@stratavore/runner-manager-domain';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { BudgetEnforcementConsumer } from './budget-enforcement.consumer';
import { type BudgetGate } from './budget-gate.port';
import { FakeBudgetGate, grant, refuse, unavailable } from './budget-gate.test-support';
import { CreateProject, UpdateProject } from './project.use-cases';
import { LaunchRunner, RunnerQueries, TransitionRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import {
  FakeLauncher,
  migrateMessaging,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { randomRunnerTokens } from './runner-token';

const ctx = { correlationId: 'budget-corr' };

const REFUSAL =
  'budget of project p (daily, tokens) is exhausted: limit 1000000, used 990000, reserved 8000, left 2000, requested 50000; the period ends at 2026-11-25T00:00:00.000Z';

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function refusal(promise: Promise<unknown>): Promise<RunnerException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunnerException) return error;
    throw error;
  }
  throw new Error('expected a RunnerException');
}

describe('launch-time budget reservation and enforcement on PostgreSQL', () => {
  let db: TestDatabase;
  let store: RunnerManagerStore;
  let launcher: FakeLauncher;
  let gate: FakeBudgetGate;
  let deps: RunnerManagerDeps;

  beforeAll(async () => {
    db = await createTestDatabase('runner_budgets');
    await migrateMessaging(db.url);
    store = await RunnerManagerStore.open(db.url, { poolSize: 6 });
  });

  beforeEach(() => {
    launcher = new FakeLauncher();
    gate = new FakeBudgetGate();
    deps = {
      ...testDeps(),
      tokens: randomRunnerTokens,
      launcher,
      signingKey: TEST_SIGNING_KEY,
      store,
      budgets: gate,
    };
  });

  afterEach(() => gate.assertSatisfied());

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  async function project(
    maxRunners = 1,
    estimate: { estimateTokens?: number | null; estimateUsd?: number | null } = {},
  ) {
    const name = uniqueName('p');
    return new CreateProject(deps).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command: ['claude'],
      maxRunners,
      env: [],
      ...estimate,
    });
  }

  const launch = (
    projectName: string,
    extra: {
      queue?: boolean;
      estimateTokens?: number;
      estimateUsd?: number;
      mode?: 'headless' | 'interactive';
      prompt?: string;
    } = {},
  ) =>
    new LaunchRunner(deps).execute(
      {
        project: projectName,
        mode: extra.mode ?? 'headless',
        queue: extra.queue ?? false,
        ...extra,
      },
      ctx,
    );

  async function runnersOf(projectId: string): Promise<Array<{ id: string; state: string }>> {
    return sql(db.url, 'SELECT id, state FROM runner.runners WHERE project_id = $1', [projectId]);
  }

  async function outbox(
    subject: string,
  ): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const rows = await sql<{ type: string; payload: { data: Record<string, unknown> } }>(
      db.url,
      'SELECT type, payload FROM messaging.outbox WHERE subject = $1 ORDER BY position',
      [subject],
    );
    return rows.map((row) => ({ type: row.type, data: row.payload.data }));
  }

  it("stores the project's default estimate and clears it with null", async () => {
    const p = await project(1, { estimateTokens: 50_000, estimateUsd: 2.5 });
    expect(p).toMatchObject({ estimateTokens: 50_000, estimateUsd: 2.5 });
    const updated = await new UpdateProject(deps).execute(
      { project: p.name, estimateTokens: null, estimateUsd: 0.125 },
      ctx,
    );
    expect(updated).toMatchObject({ estimateTokens: null, estimateUsd: 0.125 });
  });

  it("reserves the project's default estimate (or the launch's override) for the runner it inserts", async () => {
    const p = await project(3, { estimateTokens: 50_000, estimateUsd: 2 });
    gate.answer(grant(), grant());

    const first = await launch(p.name);
    const second = await launch(p.name, { estimateTokens: 1_000 });

    if (first.status !== 'launched' || second.status !== 'launched')
      throw new Error('expected launches');
    expect(gate.reservations).toEqual([
      {
        reservationId: expect.any(String) as string,
        runnerId: first.runner.id,
        project: expect.objectContaining({ id: p.id, name: p.name }) as object,
        estimate: { tokens: 50_000, usd: 2 },
      },
      expect.objectContaining({ runnerId: second.runner.id, estimate: { tokens: 1_000, usd: 2 } }),
    ]);
    expect(gate.reservations[0]?.reservationId).not.toBe(first.runner.id);
    expect(gate.releases).toEqual([]);
    expect(first.runner.state).toBe('starting');
    const events = await outbox(first.runner.id);
    expect(events[0]).toMatchObject({ type: 'runner.launched', data: { reservedTokens: 50_000 } });
  });

  it("reserves the service's default estimate for a project that sets none", async () => {
    deps = { ...deps, defaultEstimate: { tokens: 20_000, usd: 0.5 } };
    const p = await project(2);
    gate.answer(grant());

    const launched = await launch(p.name);

    if (launched.status !== 'launched') throw new Error('expected a launch');
    expect(gate.reservations).toEqual([
      expect.objectContaining({
        runnerId: launched.runner.id,
        estimate: { tokens: 20_000, usd: 0.5 },
      }),
    ]);
  });

  it('gives a headless Claude runner --max-budget-usd from what is left of its USD budget', async () => {
    const p = await project(2);
    gate.answer(grant(3.25), grant(3.25));

    const headless = await launch(p.name);
    const interactive = await launch(p.name, { mode: 'interactive' });

    if (headless.status !== 'launched' || interactive.status !== 'launched')
      throw new Error('expected launches');
    expect(headless.runner.command).toEqual(['claude', '--max-budget-usd', '3.25']);
    expect(launcher.launches[0]?.runner.command).toEqual(['claude', '--max-budget-usd', '3.25']);
    expect(interactive.runner.command).toEqual(['claude']);
  });

  it("refuses with budget-service's full message and the structured refusal, inserting nothing", async () => {
    const p = await project(1, { estimateTokens: 50_000 });
    gate.answer(refuse(REFUSAL));

    const error = await refusal(launch(p.name, { prompt: 'spend' }));

    expect(error.code).toBe(RunnerErrorCode.BudgetExceeded);
    expect(error.message).toBe(REFUSAL);
    expect(error.details).toMatchObject({
      project: p.name,
      projectId: p.id,
      estimate: { tokens: 50_000, usd: 0 },
      refusals: [{ dimension: 'tokens', limit: 1_000_000, left: 2_000, message: REFUSAL }],
    });
    expect(await runnersOf(p.id)).toEqual([]);
    expect(launcher.launches).toEqual([]);
    expect(gate.releases).toEqual([]);
  });

  it('fails with BudgetUnavailable rather than launching unchecked', async () => {
    const p = await project();
    gate.answer(unavailable('no responder for budget-service (budgets.reserve)'));

    const error = await refusal(launch(p.name));

    expect(error.code).toBe(RunnerErrorCode.BudgetUnavailable);
    expect(error.message).toMatch(/^budget-service unavailable: no responder for budget-service/);
    expect(await runnersOf(p.id)).toEqual([]);
  });

  it('releases the reservation when the quota then refuses', async () => {
    const p = await project(1);
    gate.answer(grant(), grant());
    await launch(p.name);

    const error = await refusal(launch(p.name));

    expect(error.code).toBe(RunnerErrorCode.QuotaExceeded);
    expect(gate.releases).toEqual([gate.reservations[1]?.reservationId]);
    expect(await runnersOf(p.id)).toHaveLength(1);
  });

  it('queues without holding budget and reserves the launch’s own estimate when admitted', async () => {
    const p = await project(1, { estimateTokens: 10, estimateUsd: 1 });
    gate.answer(grant(), grant());
    const first = await launch(p.name);
    const queued = await launch(p.name, { queue: true, estimateTokens: 777, prompt: 'later' });
    if (first.status !== 'launched' || queued.status !== 'queued') throw new Error('unexpected');
    expect(queued.queuedLaunch).toMatchObject({ estimateTokens: 777, estimateUsd: null });
    expect(gate.releases).toEqual([gate.reservations[1]?.reservationId]);

    gate.answer(grant());
    const transition = new TransitionRunner(deps);
    await transition.execute({ runnerId: first.runner.id, to: 'running', pid: 1 }, ctx);
    await transition.execute({ runnerId: first.runner.id, to: 'completed', exitCode: 0 }, ctx);

    const admitted = await new RunnerQueries(deps).list({
      project: p.name,
      states: ['starting'],
      limit: 5,
    });
    expect(admitted.runners.map((r) => r.prompt)).toEqual(['later']);
    expect(gate.reservations[2]).toMatchObject({
      runnerId: admitted.runners[0]?.id,
      estimate: { tokens: 777, usd: 1 },
    });
  });

  it('fails an admitted queued launch the budget refuses, with its message, and admits the next', async () => {
    const p = await project(1);
    gate.answer(grant(), grant(), grant());
    const first = await launch(p.name);
    await launch(p.name, { queue: true, prompt: 'refused' });
    await launch(p.name, { queue: true, prompt: 'granted' });
    if (first.status !== 'launched') throw new Error('expected a launch');

    gate.answer(refuse(REFUSAL), grant());
    const transition = new TransitionRunner(deps);
    await transition.execute({ runnerId: first.runner.id, to: 'running', pid: 1 }, ctx);
    await transition.execute({ runnerId: first.runner.id, to: 'completed', exitCode: 0 }, ctx);

    const runners = (await new RunnerQueries(deps).list({ project: p.name, limit: 10 })).runners;
    const failed = runners.find((r) => r.prompt === 'refused');
    expect(failed).toMatchObject({ state: 'failed', failureReason: 'budget_exceeded' });
    expect((await outbox(failed?.id ?? '')).at(-1)).toMatchObject({
      type: 'runner.failed',
      data: { reason: 'budget_exceeded', detail: REFUSAL },
    });
    expect(runners.find((r) => r.prompt === 'granted')).toMatchObject({ state: 'starting' });
    expect(launcher.launches.map((l) => l.runner.prompt)).not.toContain('refused');
  });

  /** The data of a `budget.exceeded` (v2) as budget-service writes it. */
  function exceededData(
    scope: { kind: 'global' } | { kind: 'project'; projectId: string },
    enforcement: 'hard' | 'soft',
  ) {
    return {
      budgetId: randomUUID(),
      scope,
      ...(scope.kind === 'project' ? { projectId: scope.projectId } : {}),
      period: 'daily' as const,
      periodStart: '2026-11-24T00:00:00.000Z',
      periodEnd: '2026-11-25T00:00:00.000Z',
      enforcement,
      limitTokens: 1000,
      limitUsd: null,
      usedTokens: 1200,
      usedUsd: 0,
      reservedTokens: 0,
      reservedUsd: 0,
      ratio: 1.2,
      message: 'budget of project p (daily) is exceeded: limit 1000 tokens, used 1200',
      exceededOn: ['tokens' as const],
    };
  }

  function exceeded(
    scope: { kind: 'global' } | { kind: 'project'; projectId: string },
    enforcement: 'hard' | 'soft',
  ): EventEnvelope {
    return buildEnvelope(
      {
        type: 'budget.exceeded',
        version: 2,
        source: 'budget-service',
        subject: randomUUID(),
        correlationId: 'exceeded-corr',
        data: exceededData(scope, enforcement),
      },
      { clock: deps.clock, ids: deps.ids, signingKey: TEST_SIGNING_KEY },
    );
  }

  /** A `budget.overrun` (v1) naming one runner of a hard project budget. */
  function overrun(runnerId: string, projectId: string, message: string): EventEnvelope {
    return buildEnvelope(
      {
        type: 'budget.overrun',
        version: 1,
        source: 'budget-service',
        subject: runnerId,
        correlationId: 'overrun-corr',
        data: {
          ...exceededData({ kind: 'project', projectId }, 'hard'),
          enforcement: 'hard',
          message,
          runnerId,
          runnerProjectId: projectId,
        },
      },
      { clock: deps.clock, ids: deps.ids, signingKey: TEST_SIGNING_KEY },
    );
  }

  const deliver = (consumer: BudgetEnforcementConsumer, envelope: EventEnvelope) =>
    consumer.handle({ envelope, routingKey: envelope.type, attempt: 1 });

  it('stops every active runner of a hard project budget gracefully, once per event', async () => {
    const p = await project(3);
    const other = await project(1);
    gate.fallback = grant();
    const running = await launch(p.name);
    const starting = await launch(p.name);
    const elsewhere = await launch(other.name);
    if (
      running.status !== 'launched' ||
      starting.status !== 'launched' ||
      elsewhere.status !== 'launched'
    ) {
      throw new Error('expected launches');
    }
    await new TransitionRunner(deps).execute(
      { runnerId: running.runner.id, to: 'running', pid: 9 },
      ctx,
    );
    const consumer = new BudgetEnforcementConsumer(deps);
    const event = exceeded({ kind: 'project', projectId: p.id }, 'hard');

    expect(await deliver(consumer, event)).toBe('ack');

    const queries = new RunnerQueries(deps);
    expect(await queries.get({ runner: running.runner.id })).toMatchObject({
      state: 'stopping',
      desiredState: 'stop',
    });
    expect(await queries.get({ runner: starting.runner.id })).toMatchObject({ state: 'stopped' });
    expect(await queries.get({ runner: elsewhere.runner.id })).toMatchObject({ state: 'starting' });
    expect((await outbox(running.runner.id)).at(-1)).toEqual({
      type: 'runner.stopping',
      data: {
        runnerId: running.runner.id,
        projectId: p.id,
        requestedBy: 'budget',
        reason: 'budget of project p (daily) is exceeded: limit 1000 tokens, used 1200',
      },
    });
    const bySignal = (a: { runnerId: string }, b: { runnerId: string }) =>
      a.runnerId.localeCompare(b.runnerId);
    expect([...launcher.signals].sort(bySignal)).toEqual(
      [
        { runnerId: running.runner.id, signal: 'SIGTERM' },
        { runnerId: starting.runner.id, signal: 'SIGTERM' },
      ].sort(bySignal),
    );

    // A redelivery changes nothing and signals nobody.
    const rows = (await outbox(running.runner.id)).length;
    expect(await deliver(consumer, event)).toBe('ack');
    expect(await outbox(running.runner.id)).toHaveLength(rows);
    expect(launcher.signals).toHaveLength(2);
  });

  it('stops nothing for a soft budget, and nothing with budgets off (exceeded or overrun)', async () => {
    const p = await project(2);
    gate.fallback = grant();
    const reply = await launch(p.name);
    if (reply.status !== 'launched') throw new Error('expected a launch');
    await new TransitionRunner(deps).execute(
      { runnerId: reply.runner.id, to: 'running', pid: 9 },
      ctx,
    );

    const soft = exceeded({ kind: 'project', projectId: p.id }, 'soft');
    expect(await deliver(new BudgetEnforcementConsumer(deps), soft)).toBe('ack');
    const { budgets: _off, ...withoutBudgets } = deps;
    const hard = exceeded({ kind: 'project', projectId: p.id }, 'hard');
    expect(await deliver(new BudgetEnforcementConsumer(withoutBudgets), hard)).toBe('ack');
    const named = overrun(reply.runner.id, p.id, 'over');
    expect(await deliver(new BudgetEnforcementConsumer(withoutBudgets), named)).toBe('ack');

    expect(await new RunnerQueries(deps).get({ runner: reply.runner.id })).toMatchObject({
      state: 'running',
      desiredState: 'run',
    });
    expect(launcher.signals).toEqual([]);
    const inbox = await sql<{ event_id: string }>(
      db.url,
      `SELECT event_id FROM messaging.inbox WHERE consumer = 'runner-manager' AND event_id = ANY($1)`,
      [[soft.id, hard.id]],
    );
    expect(inbox.map((row) => row.event_id)).toEqual([soft.id]);
  });

  it('stops a runner launched under a grant from before the exceed, which the sweep missed, when budget-service names it in budget.overrun', async () => {
    const p = await project(3);
    gate.fallback = grant();
    const early = await launch(p.name);
    if (early.status !== 'launched') throw new Error('expected a launch');
    const transition = new TransitionRunner(deps);
    await transition.execute({ runnerId: early.runner.id, to: 'running', pid: 7 }, ctx);

    // The late launch's reservation is granted, but its answer arrives after the sweep.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const slowGate: BudgetGate = {
      reserve: async (request) => {
        const outcome = await gate.reserve(request);
        await answered;
        return outcome;
      },
      release: (reservationId) => gate.release(reservationId),
    };
    const lateLaunch = new LaunchRunner({ ...deps, budgets: slowGate }).execute(
      { project: p.name, mode: 'headless', queue: false },
      ctx,
    );
    await waitFor(() => gate.reservations.length === 2, { description: 'the late reservation' });
    const consumer = new BudgetEnforcementConsumer(deps);
    expect(await deliver(consumer, exceeded({ kind: 'project', projectId: p.id }, 'hard'))).toBe(
      'ack',
    );
    const queries = new RunnerQueries(deps);
    expect(await queries.get({ runner: early.runner.id })).toMatchObject({ state: 'stopping' });
    expect(await runnersOf(p.id)).toHaveLength(1);

    answer();
    const late = await lateLaunch;
    if (late.status !== 'launched') throw new Error('expected the late launch');
    await transition.execute({ runnerId: late.runner.id, to: 'running', pid: 8 }, ctx);
    // The gap budget.exceeded leaves: the late runner runs.
    expect(await queries.get({ runner: late.runner.id })).toMatchObject({
      state: 'running',
      desiredState: 'run',
    });
    launcher.signals.length = 0;

    // Its first usage makes budget-service name it.
    const message = `The budget of project ${p.id} (daily) is exceeded: used 1,040 tokens of 1,000 tokens; runner ${late.runner.id} spent after the limit was reached and is stopped`;
    const named = overrun(late.runner.id, p.id, message);
    expect(await deliver(consumer, named)).toBe('ack');

    expect(await queries.get({ runner: late.runner.id })).toMatchObject({
      state: 'stopping',
      desiredState: 'stop',
    });
    expect((await outbox(late.runner.id)).at(-1)).toEqual({
      type: 'runner.stopping',
      data: { runnerId: late.runner.id, projectId: p.id, requestedBy: 'budget', reason: message },
    });
    expect(launcher.signals).toEqual([{ runnerId: late.runner.id, signal: 'SIGTERM' }]);

    // A redelivery, a later overrun of a runner already stopping, one of an ended runner and
    // one of a runner runner-manager does not know change nothing and signal nobody.
    const rows = (await outbox(late.runner.id)).length;
    expect(await deliver(consumer, named)).toBe('ack');
    expect(await deliver(consumer, overrun(late.runner.id, p.id, message))).toBe('ack');
    await transition.execute({ runnerId: early.runner.id, to: 'stopped', exitCode: 0 }, ctx);
    const ended = (await outbox(early.runner.id)).length;
    expect(await deliver(consumer, overrun(early.runner.id, p.id, message))).toBe('ack');
    expect(await deliver(consumer, overrun(randomUUID(), p.id, message))).toBe('ack');
    expect(await outbox(late.runner.id)).toHaveLength(rows);
    expect(await outbox(early.runner.id)).toHaveLength(ended);
    expect(launcher.signals).toHaveLength(1);
    expect(await queries.get({ runner: early.runner.id })).toMatchObject({ state: 'stopped' });
  });

  // Last: a global budget stops the active runners of every project in this database.
  it('stops the runners of every project for a hard global budget', async () => {
    const a = await project(1);
    const b = await project(1);
    gate.fallback = grant();
    const ra = await launch(a.name);
    const rb = await launch(b.name);
    if (ra.status !== 'launched' || rb.status !== 'launched') throw new Error('expected launches');

    expect(
      await deliver(new BudgetEnforcementConsumer(deps), exceeded({ kind: 'global' }, 'hard')),
    ).toBe('ack');

    const active = await sql<{ n: number }>(
      db.url,
      `SELECT count(*)::int AS n FROM runner.runners WHERE state IN ('pending', 'starting', 'running')`,
    );
    expect(active[0]?.n).toBe(0);
    expect(launcher.signals.map((s) => s.runnerId)).toEqual(
      expect.arrayContaining([ra.runner.id, rb.runner.id]),
    );
  });
});
