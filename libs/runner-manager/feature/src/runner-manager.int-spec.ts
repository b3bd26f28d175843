import { type ProjectReply, RunnerErrorCode } from '@stratavore/contracts';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { RunnerException } from '@stratavore/runner-manager-domain';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';
import { Client } from 'pg';

import {
  ArchiveProject,
  CreateProject,
  GetProject,
  ListProjects,
  UpdateProject,
} from './project.use-cases';
import {
  CancelQueued,
  LaunchRunner,
  RunnerQueries,
  StopRunner,
  TransitionRunner,
} from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import {
  FakeLauncher,
  migrateMessaging,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { hashRunnerToken, randomRunnerTokens } from './runner-token';

const ctx = { correlationId: 'corr-1' };

/** Runs one query on its own connection. */
export async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function codeOf(promise: Promise<unknown>): Promise<RunnerErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunnerException) return error.code;
    throw error;
  }
  throw new Error('expected a RunnerException');
}

describe('runner-manager use cases on PostgreSQL', () => {
  let db: TestDatabase;
  let storeA: RunnerManagerStore;
  let storeB: RunnerManagerStore;
  let launcher: FakeLauncher;
  let depsA: RunnerManagerDeps;
  let depsB: RunnerManagerDeps;

  beforeAll(async () => {
    db = await createTestDatabase('runner_manager');
    await migrateMessaging(db.url);
    // Two stores: two runner-manager processes on the same database.
    [storeA, storeB] = await Promise.all([
      RunnerManagerStore.open(db.url, { poolSize: 10 }),
      RunnerManagerStore.open(db.url, { poolSize: 10 }),
    ]);
    launcher = new FakeLauncher();
    const base = {
      ...testDeps(),
      tokens: randomRunnerTokens,
      launcher,
      signingKey: TEST_SIGNING_KEY,
    };
    depsA = { ...base, store: storeA };
    depsB = { ...base, store: storeB };
  });

  afterAll(async () => {
    await storeA?.close();
    await storeB?.close();
    await db?.drop();
  });

  async function project(name: string, maxRunners = 1, extra: object = {}): Promise<ProjectReply> {
    return new CreateProject(depsA).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command: ['claude'],
      maxRunners,
      env: [],
      ...extra,
    });
  }

  async function outboxTypes(subject: string): Promise<string[]> {
    const rows = await sql<{ type: string }>(
      db.url,
      'SELECT type FROM messaging.outbox WHERE subject = $1 ORDER BY position',
      [subject],
    );
    return rows.map((row) => row.type);
  }

  it('creates, lists, updates and archives projects with name conflicts and redacted secrets', async () => {
    const created = await project('alpha', 2, {
      env: [
        { name: 'PLAIN', value: 'visible', secret: false },
        { name: 'API_KEY', value: 'hunter2', secret: true },
      ],
    });
    expect(created.env).toEqual([
      { name: 'PLAIN', value: 'visible', secret: false },
      { name: 'API_KEY', value: null, secret: true },
    ]);
    expect(await codeOf(project('alpha'))).toBe(RunnerErrorCode.ProjectNameTaken);
    // Two creators racing for one name: the partial unique index lets one through.
    const race = await Promise.allSettled([project('beta'), project('beta'), project('beta')]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);

    const listed = await new ListProjects(depsA).execute({ includeArchived: false });
    expect(listed.projects.map((p) => p.name)).toEqual(['alpha', 'beta']);
    expect(JSON.stringify(listed)).not.toContain('hunter2');
    const got = await new GetProject(depsA).execute({ project: 'alpha' });
    expect(got.env[1]).toEqual({ name: 'API_KEY', value: null, secret: true });

    const updated = await new UpdateProject(depsA).execute(
      { project: created.id, description: 'd', env: [{ name: 'API_KEY', secret: true }] },
      ctx,
    );
    expect(updated.description).toBe('d');
    const stored = await sql<{ env: unknown }>(
      db.url,
      'SELECT env FROM runner.projects WHERE id = $1',
      [created.id],
    );
    expect(stored[0]?.env).toEqual([{ name: 'API_KEY', value: 'hunter2', secret: true }]);
    expect(
      await codeOf(new UpdateProject(depsA).execute({ project: 'alpha', name: 'beta' }, ctx)),
    ).toBe(RunnerErrorCode.ProjectNameTaken);

    const archived = await new ArchiveProject(depsA).execute({ project: 'beta' });
    expect(archived.archivedAt).not.toBeNull();
    expect(await codeOf(new GetProject(depsA).execute({ project: 'beta' }))).toBe(
      RunnerErrorCode.ProjectNotFound,
    );
    // The name is free again once archived.
    await expect(project('beta')).resolves.toMatchObject({ name: 'beta' });
  });

  it('refuses to archive a project with active runners', async () => {
    const p = await project('busy', 1);
    const launched = await new LaunchRunner(depsA).execute(
      { project: 'busy', mode: 'headless', queue: false },
      ctx,
    );
    expect(launched.status).toBe('launched');
    expect(await codeOf(new ArchiveProject(depsA).execute({ project: p.id }))).toBe(
      RunnerErrorCode.ProjectHasActiveRunners,
    );
  });

  it('launches: pending + runner.launched in one transaction, then starting with the agent pid', async () => {
    await project('launchy', 3);
    const reply = await new LaunchRunner(depsA).execute(
      { project: 'launchy', prompt: 'fix it', mode: 'headless', queue: false },
      ctx,
    );
    if (reply.status !== 'launched') throw new Error('expected a launch');
    const runner = reply.runner;
    expect(runner).toMatchObject({
      state: 'starting',
      host: 'test-host',
      prompt: 'fix it',
      pid: null,
    });
    expect(runner.agentPid).toEqual(expect.any(Number));
    const launch = launcher.launches.find((l) => l.runner.id === runner.id);
    if (!launch) throw new Error('launcher not called');
    const rows = await sql<{ token_hash: string }>(
      db.url,
      'SELECT token_hash FROM runner.runners WHERE id = $1',
      [runner.id],
    );
    expect(rows[0]?.token_hash).toBe(hashRunnerToken(launch.token));
    expect(rows[0]?.token_hash).not.toBe(launch.token);
    expect(await outboxTypes(runner.id)).toEqual(['runner.launched', 'runner.starting']);
    const envelopes = await sql<{ payload: { correlationId: string; subject: string } }>(
      db.url,
      'SELECT payload FROM messaging.outbox WHERE subject = $1',
      [runner.id],
    );
    expect(envelopes.every((e) => e.payload.correlationId === 'corr-1')).toBe(true);
  });

  it('records failed (launch_failed) when the launcher throws', async () => {
    await project('broken', 1);
    launcher.failWith = new Error('spawn ENOENT');
    try {
      const reply = await new LaunchRunner(depsA).execute(
        { project: 'broken', mode: 'headless', queue: false },
        ctx,
      );
      if (reply.status !== 'launched') throw new Error('expected a launch');
      expect(reply.runner).toMatchObject({ state: 'failed', failureReason: 'launch_failed' });
      expect(await outboxTypes(reply.runner.id)).toEqual(['runner.launched', 'runner.failed']);
    } finally {
      launcher.failWith = null;
    }
  });

  it('admits exactly maxRunners of 50 concurrent launches through two processes, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `quota-${round}`;
      const p = await project(name, 5);
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          new LaunchRunner(i % 2 === 0 ? depsA : depsB).execute(
            { project: name, mode: 'headless', queue: false },
            { correlationId: `round-${round}-${i}` },
          ),
        ),
      );
      const admitted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(admitted).toHaveLength(5);
      expect(refused).toHaveLength(45);
      for (const r of refused) {
        const reason = r.reason as RunnerException;
        expect(reason.code).toBe(RunnerErrorCode.QuotaExceeded);
        expect(reason.message).toMatch(
          new RegExp(
            `^project ${name} allows 5 concurrent runners; held by [0-9a-f-]+ \\((pending|starting)\\)`,
          ),
        );
      }
      const counted = await sql<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM runner.runners WHERE project_id = $1`,
        [p.id],
      );
      expect(counted[0]?.n).toBe(5);
    }
  });

  it('queues a launch when full and admits the oldest when a runner ends (FIFO)', async () => {
    await project('fifo', 1);
    const first = await new LaunchRunner(depsA).execute(
      { project: 'fifo', mode: 'headless', queue: false },
      ctx,
    );
    if (first.status !== 'launched') throw new Error('expected a launch');
    const q1 = await new LaunchRunner(depsA).execute(
      { project: 'fifo', prompt: 'one', mode: 'headless', queue: true },
      ctx,
    );
    const q2 = await new LaunchRunner(depsB).execute(
      { project: 'fifo', prompt: 'two', mode: 'headless', queue: true },
      ctx,
    );
    const q3 = await new LaunchRunner(depsA).execute(
      { project: 'fifo', prompt: 'three', mode: 'headless', queue: true },
      ctx,
    );
    if (q1.status !== 'queued' || q2.status !== 'queued' || q3.status !== 'queued') {
      throw new Error('expected queued launches');
    }
    expect([q1, q2, q3].map((q) => q.queuedLaunch.position)).toEqual([1, 2, 3]);
    await new CancelQueued(depsA).execute({ queuedLaunch: q2.queuedLaunch.id });
    expect(
      await codeOf(new CancelQueued(depsA).execute({ queuedLaunch: q2.queuedLaunch.id })),
    ).toBe(RunnerErrorCode.QueuedLaunchNotFound);

    const transition = new TransitionRunner(depsB);
    await transition.execute({ runnerId: first.runner.id, to: 'running', pid: 77 }, ctx);
    await transition.execute({ runnerId: first.runner.id, to: 'completed', exitCode: 0 }, ctx);

    const queries = new RunnerQueries(depsA);
    const status = await queries.status({ project: 'fifo' });
    expect(status.projects[0]).toMatchObject({ active: 1, maxRunners: 1 });
    expect(status.projects[0]?.queued.map((q) => q.prompt)).toEqual(['three']);
    const active = await queries.list({ project: 'fifo', states: ['starting'], limit: 10 });
    expect(active.runners.map((r) => r.prompt)).toEqual(['one']);
  });

  it('refuses illegal transitions and writes exactly one outbox row per transition', async () => {
    await project('machine', 2);
    const reply = await new LaunchRunner(depsA).execute(
      { project: 'machine', mode: 'headless', queue: false },
      ctx,
    );
    if (reply.status !== 'launched') throw new Error('expected a launch');
    const id = reply.runner.id;
    const transition = new TransitionRunner(depsA);
    expect(await codeOf(transition.execute({ runnerId: id, to: 'completed' }, ctx))).toBe(
      RunnerErrorCode.IllegalTransition,
    );
    await transition.execute({ runnerId: id, to: 'running', pid: 4242, sessionId: 's-1' }, ctx);
    const stopped = await new StopRunner(depsA).execute({ runner: id, force: false }, ctx);
    expect(stopped).toMatchObject({ state: 'stopping', desiredState: 'stop', pid: 4242 });
    expect(launcher.signals).toContainEqual({ runnerId: id, signal: 'SIGTERM' });
    await transition.execute(
      { runnerId: id, to: 'stopped', exitCode: null, signal: 'SIGTERM' },
      ctx,
    );
    expect(await codeOf(transition.execute({ runnerId: id, to: 'running' }, ctx))).toBe(
      RunnerErrorCode.IllegalTransition,
    );
    expect(await codeOf(new StopRunner(depsA).execute({ runner: id, force: true }, ctx))).toBe(
      RunnerErrorCode.RunnerAlreadyEnded,
    );
    expect(await outboxTypes(id)).toEqual([
      'runner.launched',
      'runner.starting',
      'runner.running',
      'runner.stopping',
      'runner.stopped',
    ]);
    const got = await new RunnerQueries(depsA).get({ runner: id });
    expect(got).toMatchObject({ state: 'stopped', signal: 'SIGTERM', sessionId: 's-1' });
    expect(got.endedAt).not.toBeNull();
  });

  it('kills a running runner with --force: SIGKILL, its processes reaped, stopped at once', async () => {
    await project('forced', 1);
    const reply = await new LaunchRunner(depsA).execute(
      { project: 'forced', mode: 'headless', queue: false },
      ctx,
    );
    if (reply.status !== 'launched') throw new Error('expected a launch');
    const id = reply.runner.id;
    await new TransitionRunner(depsA).execute({ runnerId: id, to: 'running', pid: 5151 }, ctx);

    const killed = await new StopRunner(depsA).execute({ runner: id, force: true }, ctx);

    expect(killed).toMatchObject({ state: 'stopped', desiredState: 'kill', signal: 'SIGKILL' });
    expect(launcher.signals).toContainEqual({ runnerId: id, signal: 'SIGKILL' });
    expect(launcher.reaped.map((r) => r.id)).toContain(id);
    expect(await outboxTypes(id)).toEqual([
      'runner.launched',
      'runner.starting',
      'runner.running',
      'runner.stopping',
      'runner.stopped',
    ]);
  });

  it("lists a project's runners in pages that follow nextCursor, and refuses an unknown cursor", async () => {
    await project('paged', 10);
    for (let i = 0; i < 5; i++) {
      await new LaunchRunner(depsA).execute(
        { project: 'paged', mode: 'headless', queue: false },
        ctx,
      );
    }
    const queries = new RunnerQueries(depsA);
    const all = await queries.list({ project: 'paged', limit: 500 });
    expect(all.runners).toHaveLength(5);
    expect(all.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | undefined;
    const cursors: Array<string | null | undefined> = [];
    do {
      const page = await queries.list({
        project: 'paged',
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.runners.map((r) => r.id));
      cursors.push(page.nextCursor);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(all.runners.map((r) => r.id));
    expect(cursors).toEqual([seen[1], seen[3], null]);

    const exact = await queries.list({ project: 'paged', limit: 5 });
    expect(exact.nextCursor).toBeNull();
    const last = await queries.list({ project: 'paged', limit: 2, cursor: seen[4]! });
    expect(last).toEqual({ runners: [], nextCursor: null });
    const unknown = queries.list({ limit: 2, cursor: '00000000-0000-4000-8000-00000000ffff' });
    await expect(unknown).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: { issues: [expect.objectContaining({ field: 'cursor' })] },
    });
  });
});
