import { Test, type TestingModule } from '@nestjs/testing';
import {
  type LaunchRunnerReply,
  type ProjectReply,
  RUNNER_MANAGER_SERVICE,
  RunnerErrorCode,
  SESSION_STORE_SERVICE,
  type SessionDetail,
  SessionStoreErrorCode,
} from '@stratavore/contracts';
import { InProcessBus } from '@stratavore/messaging';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { RunnerException } from '@stratavore/runner-manager-domain';
import { createTestDatabase, type TestDatabase, uniqueName } from '@stratavore/testing';

import { CreateProject } from './project.use-cases';
import { ResumeSession } from './resume-session.use-case';
import { TransitionRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { RunnerManagerModule } from './runner-manager.module';
import {
  FakeLauncher,
  migrateMessaging,
  runtimeStandIn,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { randomRunnerTokens } from './runner-token';
import { type SessionLookup, type SessionLookupOutcome } from './session-lookup.port';

const ctx = { correlationId: 'resume-corr' };
const HEADLESS = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];

async function codeOf(promise: Promise<unknown>): Promise<RunnerErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunnerException) return error.code;
    throw error;
  }
  throw new Error('expected a RunnerException');
}

/** A session-store that knows the sessions it is given; fails on anything else asked. */
class StubSessions implements SessionLookup {
  readonly sessions = new Map<string, SessionLookupOutcome>();
  readonly asked: string[] = [];

  find(sessionId: string): Promise<SessionLookupOutcome> {
    this.asked.push(sessionId);
    return Promise.resolve(this.sessions.get(sessionId) ?? { status: 'not-found' });
  }
}

describe('runners.resume on PostgreSQL', () => {
  let db: TestDatabase;
  let store: RunnerManagerStore;
  let launcher: FakeLauncher;
  let sessions: StubSessions;
  let deps: RunnerManagerDeps;

  beforeAll(async () => {
    db = await createTestDatabase('runner_resume');
    await migrateMessaging(db.url);
    store = await RunnerManagerStore.open(db.url, { poolSize: 6 });
  });

  beforeEach(() => {
    launcher = new FakeLauncher();
    sessions = new StubSessions();
    deps = {
      ...testDeps(),
      store,
      tokens: randomRunnerTokens,
      launcher,
      signingKey: TEST_SIGNING_KEY,
      sessions,
    };
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  async function project(command = ['claude', '--model', 'opus']): Promise<ProjectReply> {
    const name = uniqueName('r').slice(0, 40);
    return new CreateProject(deps).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command,
      maxRunners: 3,
      env: [],
    });
  }

  function known(id: string, projectId: string, cwd: string | null): void {
    sessions.sessions.set(id, { status: 'found', session: { id, projectId, cwd } });
  }

  it("launches claude --resume in the session's project and directory, prompt continue", async () => {
    const p = await project();
    known('sess-1', p.id, '/srv/elsewhere/worktree');

    const reply = await new ResumeSession(deps).execute(
      { session: 'sess-1', queue: false, maxTurns: 4, restart: 'on-failure' },
      ctx,
    );

    expect(reply).toMatchObject({
      status: 'launched',
      runner: {
        project: { id: p.id },
        state: 'starting',
        command: [
          'claude',
          '--model',
          'opus',
          ...HEADLESS.slice(1),
          '--resume',
          'sess-1',
          '--max-turns',
          '4',
        ],
        prompt: 'continue',
        cwd: '/srv/elsewhere/worktree',
        resumedFrom: 'sess-1',
        restartPolicy: 'on-failure',
        maxRestarts: 3,
      },
    });
    expect(launcher.launches[0]?.runner.cwd).toBe('/srv/elsewhere/worktree');

    // Without a directory reported, the project's path; a prompt of one's own.
    known('sess-2', p.id, null);
    const second = await new ResumeSession(deps).execute(
      { session: 'sess-2', queue: false, prompt: 'now the tests' },
      ctx,
    );
    expect(second).toMatchObject({
      runner: { cwd: p.path, prompt: 'now the tests', resumedFrom: 'sess-2' },
    });
  });

  it('refuses a session a runner is still working in, and resumes it once that one ended', async () => {
    const p = await project();
    known('sess-busy', p.id, null);
    const first = await new ResumeSession(deps).execute(
      { session: 'sess-busy', queue: false },
      ctx,
    );
    if (first.status !== 'launched') throw new Error('expected a launch');

    expect(
      await codeOf(new ResumeSession(deps).execute({ session: 'sess-busy', queue: false }, ctx)),
    ).toBe(RunnerErrorCode.SessionNotResumable);

    await new TransitionRunner(deps).execute(
      { runnerId: first.runner.id, to: 'failed', failureReason: 'nonzero_exit' },
      ctx,
    );
    const again = await new ResumeSession(deps).execute(
      { session: 'sess-busy', queue: false },
      ctx,
    );
    expect(again.status).toBe('launched');
  });

  it('lets one of two concurrent resumes of a session through', async () => {
    const p = await project();
    known('sess-race', p.id, null);
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map(() =>
        new ResumeSession(deps).execute({ session: 'sess-race', queue: false }, ctx),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect((outcome.reason as RunnerException).code).toBe(RunnerErrorCode.SessionNotResumable);
      }
    }
  });

  it('answers SessionNotFound, SessionStoreUnavailable and SessionNotResumable', async () => {
    expect(
      await codeOf(new ResumeSession(deps).execute({ session: 'nope', queue: false }, ctx)),
    ).toBe(RunnerErrorCode.SessionNotFound);

    sessions.sessions.set('down', { status: 'unavailable', reason: 'no responder' });
    expect(
      await codeOf(new ResumeSession(deps).execute({ session: 'down', queue: false }, ctx)),
    ).toBe(RunnerErrorCode.SessionStoreUnavailable);

    const { sessions: _none, ...withoutStore } = deps;
    expect(
      await codeOf(new ResumeSession(withoutStore).execute({ session: 'x', queue: false }, ctx)),
    ).toBe(RunnerErrorCode.SessionStoreUnavailable);

    const shell = await project(['bash', '-c', 'make']);
    known('sess-sh', shell.id, null);
    expect(
      await codeOf(new ResumeSession(deps).execute({ session: 'sess-sh', queue: false }, ctx)),
    ).toBe(RunnerErrorCode.SessionNotResumable);
    expect(launcher.launches).toHaveLength(0);
  });
});

describe('runners.resume through the module, session-store over the bus', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  const launcher = new FakeLauncher();
  const stored = new Map<string, SessionDetail>();

  beforeAll(async () => {
    db = await createTestDatabase('runner_resume_module');
    await migrateMessaging(db.url);
    bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY });
    await bus.connect();

    app = await Test.createTestingModule({
      imports: [
        runtimeStandIn(bus),
        RunnerManagerModule.forRoot({
          databaseUrl: db.url,
          signingKey: TEST_SIGNING_KEY,
          launcher: { instance: launcher },
          poolSize: 4,
          sessionRequestTimeoutMs: 2_000,
        }),
      ],
    }).compile();
    app.useLogger(false);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await db?.drop();
  });

  function detail(id: string, projectId: string, runnerId: string): SessionDetail {
    const at = '2026-11-24T10:00:00.000Z';
    const zero = {
      input: 0,
      output: 0,
      cacheCreation: 0,
      cacheCreation5m: 0,
      cacheCreation1h: 0,
      cacheRead: 0,
      webSearchRequests: 0,
    };
    return {
      id,
      projectId,
      runnerId,
      runnerIds: [runnerId],
      cwd: '/srv/bus/dir',
      models: {},
      tokens: zero,
      turns: 2,
      costUsd: null,
      reportedCostUsd: null,
      result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
      resumedFrom: null,
      waitingForInput: false,
      startedAt: at,
      lastSeenAt: at,
      endedAt: at,
      runs: [],
      transcripts: [],
    };
  }

  it('asks session-store for the session and launches in its directory', async () => {
    const project = await bus.request<ProjectReply>(RUNNER_MANAGER_SERVICE, 'projects.create', {
      name: uniqueName('bus').slice(0, 40),
      path: '/srv/bus',
      maxRunners: 2,
    });
    const responder = await bus.respond(SESSION_STORE_SERVICE, (pattern, payload) => {
      const { session } = payload as { session: string };
      const found = pattern === 'sessions.get' ? stored.get(session) : undefined;
      if (found) return Promise.resolve(found);
      return Promise.reject(
        Object.assign(new Error(`session ${session} not found`), {
          code: SessionStoreErrorCode.SessionNotFound,
        }),
      );
    });
    try {
      stored.set(
        'sess-bus',
        detail('sess-bus', project.id, '11111111-1111-4111-8111-111111111111'),
      );
      const reply = await bus.request<LaunchRunnerReply>(RUNNER_MANAGER_SERVICE, 'runners.resume', {
        session: 'sess-bus',
        prompt: 'carry on',
      });
      expect(reply).toMatchObject({
        status: 'launched',
        runner: {
          cwd: '/srv/bus/dir',
          resumedFrom: 'sess-bus',
          prompt: 'carry on',
          command: [...HEADLESS, '--resume', 'sess-bus'],
        },
      });
      await expect(
        bus.request(RUNNER_MANAGER_SERVICE, 'runners.resume', { session: 'unknown' }),
      ).rejects.toMatchObject({ code: RunnerErrorCode.SessionNotFound });
      await expect(
        bus.request(RUNNER_MANAGER_SERVICE, 'runners.resume', { session: 'x', maxTurns: 0 }),
      ).rejects.toMatchObject({
        code: RunnerErrorCode.ValidationFailed,
        details: { issues: [{ field: 'maxTurns' }] },
      });
    } finally {
      await responder.cancel();
    }
    // No session-store answering: unavailable, not a crash.
    await expect(
      bus.request(RUNNER_MANAGER_SERVICE, 'runners.resume', { session: 'sess-bus' }),
    ).rejects.toMatchObject({ code: RunnerErrorCode.SessionStoreUnavailable });
  });
});
