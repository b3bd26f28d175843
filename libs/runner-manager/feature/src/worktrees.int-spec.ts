import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Test, type TestingModule } from '@nestjs/testing';
import {
  type LaunchRunnerReply,
  type ProjectReply,
  type RemoveWorktreeReply,
  RUNNER_MANAGER_SERVICE,
  RunnerErrorCode,
  type RunnerListReply,
  type RunnerReply,
  type WorktreeListReply,
} from '@stratavore/contracts';
import { RandomIdGenerator, SystemClock } from '@stratavore/core';
import { InProcessBus } from '@stratavore/messaging';
import { type RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { RestartScheduler } from './restart-scheduler';
import { ResumeSession } from './resume-session.use-case';
import { LaunchRunner, TransitionRunner } from './runner.use-cases';
import { RUNNER_LAUNCHER, type RunnerLauncher } from './runner-launcher.port';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { RunnerManagerRequestHandler } from './runner-manager.handler';
import { RUNNER_MANAGER_STORE, RunnerManagerModule } from './runner-manager.module';
import {
  FakeLauncher,
  git,
  migrateMessaging,
  runtimeStandIn,
  TEST_SIGNING_KEY,
} from './runner-manager.test-support';
import { randomRunnerTokens } from './runner-token';
import { type SessionLookup, type SessionLookupOutcome } from './session-lookup.port';

/**
 * A stand-in agent: runs an `sh` command where it was started (the runner's cwd), as the real
 * agent does, and exits; any other command (claude) is only recorded, never run.
 */
const FAKE_AGENT = `
const { spawnSync } = require('node:child_process');
const argv = process.argv.slice(process.argv.indexOf('--') + 1);
if (argv[0] === 'sh') spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
`;

/** Each runner writes `<prompt>.txt` (its prompt and where it ran) in its working directory. */
const WRITE_A_FILE = [
  'sh',
  '-c',
  'printf "%s %s\\n" "$STRATAVORE_PROMPT" "$PWD" > "$STRATAVORE_PROMPT.txt"',
];

class StubSessions implements SessionLookup {
  readonly sessions = new Map<string, SessionLookupOutcome>();

  find(sessionId: string): Promise<SessionLookupOutcome> {
    return Promise.resolve(this.sessions.get(sessionId) ?? { status: 'not-found' });
  }
}

describe('runner worktrees with the local launcher, a real git repository and PostgreSQL', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  let dir: string;
  let worktreeDir: string;
  let deps: RunnerManagerDeps;
  let sessions: StubSessions;
  const ctx = { correlationId: 'worktrees-int' };

  const request = <T>(pattern: string, payload: Record<string, unknown>) =>
    bus.request<T>(RUNNER_MANAGER_SERVICE, pattern, payload);

  async function launched(payload: Record<string, unknown>): Promise<RunnerReply> {
    const reply = await request<LaunchRunnerReply>('runners.launch', payload);
    if (reply.status !== 'launched') throw new Error(`expected a launch, got ${reply.status}`);
    return reply.runner;
  }

  /** A git repository with one commit, and a project on it running `command`. */
  async function repositoryProject(
    options: { command?: string[]; maxRunners?: number } = {},
  ): Promise<{ project: ProjectReply; repo: string; head: string }> {
    const name = uniqueName('wt').slice(0, 40);
    const repo = join(dir, name);
    git(dir, 'init', '--quiet', '--initial-branch=main', repo);
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'init');
    const project = await request<ProjectReply>('projects.create', {
      name,
      path: repo,
      command: options.command ?? WRITE_A_FILE,
      maxRunners: options.maxRunners ?? 3,
    });
    return { project, repo, head: git(repo, 'rev-parse', 'HEAD') };
  }

  /** The file the runner with `prompt` wrote in its working directory. */
  function written(cwd: string, prompt: string): Promise<string> {
    return waitFor(
      () => {
        const file = join(cwd, `${prompt}.txt`);
        return existsSync(file) ? readFileSync(file, 'utf8') : null;
      },
      { description: `runner ${prompt} to write its file in ${cwd}`, timeoutMs: 15_000 },
    );
  }

  async function end(runnerId: string): Promise<void> {
    const transitions = app.get(RunnerManagerRequestHandler).transitionRunner;
    await transitions.execute({ runnerId, to: 'running', pid: 4242 }, ctx);
    await transitions.execute({ runnerId, to: 'completed', exitCode: 0 }, ctx);
  }

  async function sql(text: string, params: unknown[]): Promise<void> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(text, params);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'runner-worktrees-')));
    worktreeDir = join(dir, 'worktrees');
    const agent = join(dir, 'fake-agent.js');
    writeFileSync(agent, FAKE_AGENT);
    db = await createTestDatabase('runner_manager_worktrees');
    await migrateMessaging(db.url);
    bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY });
    await bus.connect();

    app = await Test.createTestingModule({
      imports: [
        runtimeStandIn(bus),
        RunnerManagerModule.forRoot({
          databaseUrl: db.url,
          signingKey: TEST_SIGNING_KEY,
          launcher: {
            agentMainPath: agent,
            heartbeatUrl: 'http://127.0.0.1:9',
            logDir: join(dir, 'runners'),
            worktreeDir,
            baseEnv: { PATH: process.env.PATH },
            host: 'this-box',
          },
          poolSize: 6,
        }),
      ],
    }).compile();
    app.useLogger(false);
    await app.init();
    sessions = new StubSessions();
    deps = {
      store: app.get<RunnerManagerStore>(RUNNER_MANAGER_STORE),
      launcher: app.get<RunnerLauncher>(RUNNER_LAUNCHER),
      clock: new SystemClock(),
      ids: new RandomIdGenerator(),
      tokens: randomRunnerTokens,
      signingKey: TEST_SIGNING_KEY,
      sessions,
    };
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives two simultaneous runners a worktree each; neither sees the other, the project is untouched; rm removes tree and branch', async () => {
    const { project, repo, head } = await repositoryProject();

    const [a, b] = await Promise.all([
      launched({ project: project.name, prompt: 'alpha', worktree: true }),
      launched({ project: project.name, prompt: 'beta', worktree: true }),
    ]);
    for (const runner of [a, b]) {
      expect(runner.state).toBe('starting');
      expect(runner.worktree).toEqual({
        runnerId: runner.id,
        path: join(worktreeDir, project.name, runner.id),
        branch: `stratavore/${runner.id}`,
        baseCommit: head,
      });
      expect(runner.cwd).toBe(runner.worktree?.path);
    }
    const aPath = a.worktree?.path ?? '';
    const bPath = b.worktree?.path ?? '';

    // Each ran in its own tree, and only there.
    expect(await written(aPath, 'alpha')).toBe(`alpha ${aPath}\n`);
    expect(await written(bPath, 'beta')).toBe(`beta ${bPath}\n`);
    expect(existsSync(join(aPath, 'beta.txt'))).toBe(false);
    expect(existsSync(join(bPath, 'alpha.txt'))).toBe(false);
    expect(existsSync(join(aPath, 'README.md'))).toBe(true);
    // The project's own tree: no file of theirs, nothing changed, HEAD where it was.
    expect(existsSync(join(repo, 'alpha.txt')) || existsSync(join(repo, 'beta.txt'))).toBe(false);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(
      git(repo, 'branch', '--list', 'stratavore/*', '--format=%(refname:short)').split('\n').sort(),
    ).toEqual([`stratavore/${a.id}`, `stratavore/${b.id}`].sort());

    // Shown on the runner, and listed with the runner's state and git status.
    expect((await request<RunnerReply>('runners.get', { runner: a.id })).worktree).toEqual(
      a.worktree,
    );
    const { worktrees } = await request<WorktreeListReply>('worktrees.list', {
      project: project.name,
    });
    expect(worktrees.map((w) => w.runnerId).sort()).toEqual([a.id, b.id].sort());
    const listedA = worktrees.find((w) => w.runnerId === a.id);
    expect(listedA).toMatchObject({
      project: { id: project.id, name: project.name },
      runnerState: 'starting',
      activeRunners: [{ id: a.id, state: 'starting' }],
      path: aPath,
      branch: `stratavore/${a.id}`,
      baseCommit: head,
      repository: repo,
      host: 'this-box',
      removedAt: null,
      status: { exists: true, changes: 1, branchExists: true, ahead: 0, unmerged: 0 },
      statusNote: null,
    });

    // Refused while its runner works in it.
    await expect(request('worktrees.remove', { runner: a.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeInUse,
      details: { runner: a.id, holders: [{ id: a.id, state: 'starting' }] },
    });

    // It survives the runner's end.
    await end(a.id);
    await end(b.id);
    const afterEnd = await request<WorktreeListReply>('worktrees.list', { project: project.name });
    expect(afterEnd.worktrees.find((w) => w.runnerId === a.id)).toMatchObject({
      runnerState: 'completed',
      activeRunners: [],
    });
    expect(existsSync(aPath)).toBe(true);

    // Uncommitted work, then unmerged commits, refuse a removal without force.
    await expect(request('worktrees.remove', { runner: a.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeHasChanges,
      details: { changes: 1, unmerged: 0 },
      message: expect.stringContaining('1 uncommitted change in') as unknown,
    });
    git(aPath, 'add', 'alpha.txt');
    git(aPath, 'commit', '--quiet', '-m', 'alpha');
    await expect(request('worktrees.remove', { runner: a.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeHasChanges,
      details: { changes: 0, unmerged: 1 },
      message: expect.stringContaining(`1 commit on stratavore/${a.id} not merged`) as unknown,
    });
    const { removed } = await request<RemoveWorktreeReply>('worktrees.remove', {
      runner: a.id,
      force: true,
    });
    expect(removed).toMatchObject({
      runnerId: a.id,
      removedAt: expect.any(String) as unknown,
      status: { ahead: 1, unmerged: 1 },
    });
    expect(existsSync(aPath)).toBe(false);
    expect(git(repo, 'branch', '--list', `stratavore/${a.id}`)).toBe('');
    await expect(request('worktrees.remove', { runner: a.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeNotFound,
      message: expect.stringContaining('was removed at') as unknown,
    });

    // A clean tree without commits of its own goes without force.
    rmSync(join(bPath, 'beta.txt'));
    await request<RemoveWorktreeReply>('worktrees.remove', { runner: b.id });
    expect(existsSync(bPath)).toBe(false);

    const left = await request<WorktreeListReply>('worktrees.list', { project: project.name });
    expect(left.worktrees).toEqual([]);
    const all = await request<WorktreeListReply>('worktrees.list', {
      project: project.name,
      includeRemoved: true,
    });
    expect(all.worktrees.map((w) => [w.runnerId, w.status, w.statusNote])).toEqual(
      expect.arrayContaining([
        [a.id, null, 'removed'],
        [b.id, null, 'removed'],
      ]),
    );
    expect(git(repo, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('gives a queued --worktree launch its worktree when it is admitted', async () => {
    const { project } = await repositoryProject({ maxRunners: 1 });
    const first = await launched({ project: project.name, prompt: 'first', worktree: true });
    const queued = await request<LaunchRunnerReply>('runners.launch', {
      project: project.name,
      prompt: 'second',
      worktree: true,
      queue: true,
    });
    expect(queued.status).toBe('queued');

    await end(first.id);

    const second = await waitFor(
      async () => {
        const { runners } = await request<RunnerListReply>('runners.list', {
          project: project.name,
        });
        return runners.find((runner) => runner.prompt === 'second' && runner.worktree) ?? null;
      },
      { description: 'the queued launch to start in its worktree', timeoutMs: 15_000 },
    );
    expect(second.worktree).toMatchObject({
      runnerId: second.id,
      branch: `stratavore/${second.id}`,
    });
    expect(await written(second.worktree?.path ?? '', 'second')).toContain('second');
    expect(existsSync(join(first.worktree?.path ?? '', 'second.txt'))).toBe(false);
  });

  it('restarts a failed runner in the worktree it worked in', async () => {
    const { project } = await repositoryProject();
    const first = await launched({
      project: project.name,
      prompt: 'again',
      worktree: true,
      restart: 'on-failure',
      maxRestarts: 1,
    });
    const path = first.worktree?.path ?? '';
    await written(path, 'again');
    // No backoff, so the plan is due at once.
    const now = { ...deps, restartBackoff: { baseMs: 0, maxMs: 0 } };
    const transitions = new TransitionRunner(now);
    await transitions.execute({ runnerId: first.id, to: 'running', pid: 4242 }, ctx);
    await transitions.execute(
      { runnerId: first.id, to: 'failed', exitCode: 1, failureReason: 'nonzero_exit' },
      ctx,
    );
    rmSync(join(path, 'again.txt'));

    await new RestartScheduler(now, { isLeader: () => true }).tick();

    const replacement = await waitFor(
      async () => {
        const { runners } = await request<RunnerListReply>('runners.list', {
          project: project.name,
        });
        return runners.find((runner) => runner.restartOf === first.id) ?? null;
      },
      { description: 'the restart of the failed runner', timeoutMs: 15_000 },
    );
    expect(replacement).toMatchObject({ cwd: path, worktree: first.worktree });
    expect(await written(path, 'again')).toBe(`again ${path}\n`);
    const { worktrees } = await request<WorktreeListReply>('worktrees.list', {
      project: project.name,
    });
    expect(worktrees).toHaveLength(1);
  });

  it('resumes a session in the worktree it ran in, and refuses once it was removed', async () => {
    const { project } = await repositoryProject({ command: ['claude'] });
    const original = await launched({ project: project.name, prompt: 'start', worktree: true });
    const worktree = original.worktree;
    if (!worktree) throw new Error('expected a worktree');
    await end(original.id);
    sessions.sessions.set('sess-wt', {
      status: 'found',
      session: { id: 'sess-wt', projectId: project.id, cwd: worktree.path },
    });

    const resumed = await new ResumeSession(deps).execute(
      { session: 'sess-wt', queue: false },
      ctx,
    );
    if (resumed.status !== 'launched') throw new Error('expected a launch');
    expect(resumed.runner).toMatchObject({
      cwd: worktree.path,
      resumedFrom: 'sess-wt',
      worktree,
    });
    const inUse = await request<WorktreeListReply>('worktrees.list', { project: project.name });
    expect(inUse.worktrees[0]).toMatchObject({
      runnerId: original.id,
      runnerState: 'completed',
      activeRunners: [{ id: resumed.runner.id }],
    });
    await expect(request('worktrees.remove', { runner: original.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeInUse,
    });

    await end(resumed.runner.id);
    await request('worktrees.remove', { runner: original.id, force: true });
    await expect(
      new ResumeSession(deps).execute({ session: 'sess-wt', queue: false }, ctx),
    ).rejects.toMatchObject({
      code: RunnerErrorCode.SessionNotResumable,
      message: expect.stringContaining(`worktree of runner ${original.id}`) as unknown,
    });
  });

  it('refuses a --worktree launch where no worktree can be made, naming the field', async () => {
    const plain = join(dir, uniqueName('plain').slice(0, 40));
    mkdirSync(plain);
    const project = await request<ProjectReply>('projects.create', {
      name: uniqueName('plain').slice(0, 40),
      path: plain,
      command: WRITE_A_FILE,
    });

    await expect(
      request('runners.launch', { project: project.name, worktree: true }),
    ).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: {
        issues: [
          {
            field: 'worktree',
            message: expect.stringMatching(
              /^expected project \S+'s path to be in a git repository with a commit: the path .* is not in a git repository \(git: fatal: not a git repository/,
            ) as unknown,
          },
        ],
      },
    });
    await expect(
      request('runners.launch', { project: project.name, worktree: 'yes' }),
    ).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: { issues: [{ field: 'worktree', message: 'expected true or false' }] },
    });
    const { runners } = await request<RunnerListReply>('runners.list', { project: project.name });
    expect(runners).toEqual([]);

    // A launcher that makes no worktrees refuses them too.
    const { project: repoProject } = await repositoryProject();
    await expect(
      new LaunchRunner({ ...deps, launcher: new FakeLauncher() }).execute(
        { project: repoProject.name, mode: 'headless', queue: false, worktree: true },
        ctx,
      ),
    ).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: {
        issues: [
          {
            field: 'worktree',
            message: expect.stringContaining('cannot make git worktrees') as unknown,
          },
        ],
      },
    });
  });

  it('fails the runner (launch_failed, saying why) when its worktree cannot be made', async () => {
    const { project } = await repositoryProject();
    const real = app.get<RunnerLauncher>(RUNNER_LAUNCHER).worktrees;
    if (!real) throw new Error('expected worktrees');
    const launcher = Object.assign(new FakeLauncher(), {
      worktrees: {
        host: real.host,
        inspect: (path: string) => real.inspect(path),
        create: () => Promise.reject(new Error("fatal: a branch named 'x' already exists")),
        status: () => Promise.reject(new Error('unexpected status')),
        remove: () => Promise.reject(new Error('unexpected remove')),
      },
    });

    const reply = await new LaunchRunner({ ...deps, launcher }).execute(
      { project: project.name, mode: 'headless', queue: false, worktree: true, prompt: 'x' },
      ctx,
    );

    if (reply.status !== 'launched') throw new Error('expected a launch');
    expect(reply.runner).toMatchObject({
      state: 'failed',
      failureReason: 'launch_failed',
      worktree: null,
    });
    expect(launcher.launches).toEqual([]);
    const { worktrees } = await request<WorktreeListReply>('worktrees.list', {
      project: project.name,
    });
    expect(worktrees).toEqual([]);
  });

  it('refuses removals it cannot do: no worktree, unknown runner, another host, bad fields', async () => {
    const { project } = await repositoryProject();
    const plainRunner = await launched({ project: project.name, prompt: 'plain' });
    expect(plainRunner.worktree).toBeNull();
    await expect(request('worktrees.remove', { runner: plainRunner.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeNotFound,
      message: expect.stringContaining(
        `runner ${plainRunner.id} has no worktree (it was not launched with --worktree)`,
      ) as unknown,
    });
    await expect(
      request('worktrees.remove', { runner: '00000000-0000-4000-8000-00000000dead' }),
    ).rejects.toMatchObject({ code: RunnerErrorCode.RunnerNotFound });
    for (const [payload, field] of [
      [{ runner: 'nope' }, 'runner'],
      [{ runner: plainRunner.id, force: 'yes' }, 'force'],
      [{ runner: plainRunner.id, soon: true }, '(payload)'],
    ] as const) {
      await expect(request('worktrees.remove', payload)).rejects.toMatchObject({
        code: RunnerErrorCode.ValidationFailed,
        details: { issues: [expect.objectContaining({ field }) as unknown] },
      });
    }
    await expect(request('worktrees.list', { includeRemoved: 'no' })).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: { issues: [expect.objectContaining({ field: 'includeRemoved' }) as unknown] },
    });

    const elsewhere = await launched({ project: project.name, prompt: 'far', worktree: true });
    await end(elsewhere.id);
    await sql(`UPDATE runner.worktrees SET host = 'another-box' WHERE runner_id = $1`, [
      elsewhere.id,
    ]);
    const { worktrees } = await request<WorktreeListReply>('worktrees.list', {
      project: project.name,
    });
    expect(worktrees).toEqual([
      expect.objectContaining({
        runnerId: elsewhere.id,
        status: null,
        statusNote: 'it is on host another-box; this runner-manager runs on this-box',
      }),
    ]);
    await expect(request('worktrees.remove', { runner: elsewhere.id })).rejects.toMatchObject({
      code: RunnerErrorCode.WorktreeUnavailable,
      message: expect.stringContaining('it is on host another-box') as unknown,
    });
  });
});
