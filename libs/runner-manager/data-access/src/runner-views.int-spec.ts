import { createMessagingDataSource } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';
import { type PlannedRestart, type Project, type Runner } from '@stratavore/runner-manager-domain';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { RunnerManagerStore } from './runner-manager-store';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

function project(n: number): Project {
  return {
    id: `00000000-0000-4000-8000-00000000000${n}`,
    name: `views-${n}`,
    path: `/srv/views-${n}`,
    description: '',
    command: ['claude'],
    maxRunners: 10,
    env: [],
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    archivedAt: null,
    estimateTokens: null,
    estimateUsd: null,
  };
}

function runner(n: number, projectId: string, overrides: Partial<Runner> = {}): Runner {
  return {
    id: `00000000-0000-4000-8000-0000000001${n.toString().padStart(2, '0')}`,
    projectId,
    state: 'completed',
    desiredState: 'run',
    mode: 'headless',
    command: ['claude', '-p', `task ${n}`],
    prompt: `task ${n}`,
    tokenHash: n.toString(16).padStart(64, '0'),
    pid: 1000 + n,
    agentPid: 2000 + n,
    host: 'views-host',
    exitCode: 0,
    signal: null,
    failureReason: null,
    sessionId: `session-${n}`,
    createdAt: new Date(T0 + n * 1000),
    startedAt: new Date(T0 + n * 1000 + 100),
    endedAt: new Date(T0 + n * 1000 + 900),
    lastHeartbeatAt: new Date(T0 + n * 1000 + 500),
    lastHeartbeatSeq: 12_345_678_901 + n,
    cpuPercent: 12.5,
    memoryBytes: 5_000_000_000 + n,
    tokens: {
      inputTokens: 10 * n,
      outputTokens: 20 * n,
      cacheCreationTokens: 30 * n,
      cacheReadTokens: 9_007_199_254 + n,
    },
    cwd: `/srv/work-${n}`,
    resumedFrom: null,
    restartPolicy: 'on-failure',
    maxRestarts: 3,
    restartOf: null,
    restarts: 0,
    sessionResult: { subtype: 'success', isError: false, resumable: true, resumeAt: null },
    worktree: null,
    ...overrides,
  };
}

/** What a view reads of a runner: the runner repository's runner less what replies omit. */
function replyFields(full: Runner | null): Partial<Runner> | null {
  if (full === null) return null;
  const { tokenHash: _hash, lastHeartbeatSeq: _seq, sessionResult: _result, ...shown } = full;
  return shown;
}

function restartOf(target: Runner): PlannedRestart {
  return {
    id: '00000000-0000-4000-8000-000000000201',
    runnerId: target.id,
    projectId: target.projectId,
    attempt: 1,
    restartAt: new Date(T0 + 60_000),
    reason: 'backoff',
    resumeSessionId: target.sessionId,
    state: 'scheduled',
    replacementId: null,
    detail: null,
    createdAt: new Date(T0 + 10_000),
    updatedAt: new Date(T0 + 10_000),
  };
}

describe('runner views (one query per reply)', () => {
  let db: TestDatabase;
  let store: RunnerManagerStore;
  const alpha = project(1);
  const beta = project(2);
  const runners = [
    runner(1, alpha.id),
    runner(2, beta.id, { state: 'running', endedAt: null, exitCode: null }),
    runner(3, alpha.id, {
      state: 'failed',
      failureReason: 'nonzero_exit',
      exitCode: 2,
      prompt: null,
      lastHeartbeatSeq: null,
      memoryBytes: null,
      cpuPercent: null,
      sessionResult: null,
    }),
  ];
  const failed = runners[2]!;

  beforeAll(async () => {
    db = await createTestDatabase('runner_views');
    const messaging = createMessagingDataSource({ url: db.url, poolSize: 1 });
    await messaging.initialize();
    await runMigrations(messaging);
    await messaging.destroy();
    store = await RunnerManagerStore.open(db.url, { poolSize: 2 });
    await store.transaction(async (tx) => {
      await tx.projects.insert(alpha);
      await tx.projects.insert(beta);
      for (const r of runners) await tx.runners.insert(r);
      await tx.restarts.insert(restartOf(failed));
    });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('reads a runner exactly as the runner, project and restart repositories do', async () => {
    await store.read(async (reads) => {
      for (const r of runners) {
        const view = await reads.views.findById(r.id);
        expect(view).not.toBeNull();
        expect(view!.runner).toStrictEqual(replyFields(await reads.runners.findById(r.id)));
        expect(view!.projectName).toBe((await reads.projects.findById(r.projectId))?.name);
        expect(view!.restart).toEqual(await reads.restarts.findByRunner(r.id));
      }
      expect((await reads.views.findById(failed.id))?.restart).toEqual(restartOf(failed));
      expect((await reads.views.findById(runners[0]!.id))?.runner).toMatchObject(
        replyFields(runners[0]!)!,
      );
    });
  });

  it('answers null for an unknown or malformed id', async () => {
    await store.read(async (reads) => {
      expect(await reads.views.findById('00000000-0000-4000-8000-00000000ffff')).toBeNull();
      expect(await reads.views.findById('not-a-uuid')).toBeNull();
    });
  });

  it('lists newest first with the same filters and limit as the runner repository', async () => {
    await store.read(async (reads) => {
      const filters = [
        { limit: 100 },
        { limit: 2 },
        { projectId: alpha.id, limit: 100 },
        { states: ['running', 'failed'] as const, limit: 100 },
        { projectId: alpha.id, states: ['completed'] as const, limit: 1 },
        { projectId: beta.id, states: ['failed'] as const, limit: 10 },
      ];
      for (const filter of filters) {
        const views = await reads.views.list(filter);
        expect(views.map((v) => v.runner)).toStrictEqual(
          (await reads.runners.list(filter)).map(replyFields),
        );
      }
      const all = await reads.views.list({ limit: 100 });
      expect(all.map((v) => [v.runner.id, v.projectName, v.restart?.id ?? null])).toEqual([
        [failed.id, alpha.name, restartOf(failed).id],
        [runners[1]!.id, beta.name, null],
        [runners[0]!.id, alpha.name, null],
      ]);
    });
  });

  it('pages after a runner in the list order, ties on createdAt broken by id', async () => {
    const twins = [
      runner(7, alpha.id, { createdAt: new Date(T0 + 60_000), tokenHash: 'a'.repeat(64) }),
      runner(8, alpha.id, { createdAt: new Date(T0 + 60_000), tokenHash: 'b'.repeat(64) }),
    ];
    await store.transaction(async (tx) => {
      for (const r of twins) await tx.runners.insert(r);
    });
    await store.read(async (reads) => {
      const order = (await reads.views.list({ limit: 100 })).map((v) => v.runner.id);
      expect(order).toEqual([
        twins[1]!.id,
        twins[0]!.id,
        failed.id,
        runners[1]!.id,
        runners[0]!.id,
      ]);
      for (let i = 0; i < order.length; i++) {
        const after = await reads.views.list({ after: order[i]!, limit: 2 });
        expect(after.map((v) => v.runner.id)).toEqual(order.slice(i + 1, i + 3));
      }
      const alphaAfter = await reads.views.list({
        projectId: alpha.id,
        states: ['completed'],
        after: twins[0]!.id,
        limit: 10,
      });
      expect(alphaAfter.map((v) => v.runner.id)).toEqual([runners[0]!.id]);
      expect(
        await reads.views.list({ after: '00000000-0000-4000-8000-00000000ffff', limit: 5 }),
      ).toEqual([]);
      expect(await reads.views.list({ after: 'not-a-uuid', limit: 5 })).toEqual([]);
      expect(await reads.views.exists(failed.id)).toBe(true);
      expect(await reads.views.exists('00000000-0000-4000-8000-00000000ffff')).toBe(false);
      expect(await reads.views.exists('not-a-uuid')).toBe(false);
    });
  });

  it('finds projects by id and by active name with every field', async () => {
    const gamma: Project = {
      ...project(3),
      description: 'with env and estimates',
      command: ['claude', '--model', 'sonnet'],
      env: [
        { name: 'PLAIN', value: 'v', secret: false },
        { name: 'TOKEN', value: 's3cret', secret: true },
      ],
      estimateTokens: 250_000,
      estimateUsd: 1.25,
    };
    const archived: Project = {
      ...project(4),
      name: gamma.name,
      archivedAt: new Date(T0 + 5_000),
    };
    await store.transaction(async (tx) => {
      await tx.projects.insert(archived);
      await tx.projects.insert(gamma);
    });
    await store.read(async (reads) => {
      expect(await reads.projects.findById(gamma.id)).toEqual(gamma);
      expect(await reads.projects.findActiveByName(gamma.name)).toEqual(gamma);
      expect(await reads.projects.resolve(archived.id)).toEqual(archived);
      expect(await reads.projects.findActiveByName('views-none')).toBeNull();
      expect(await reads.projects.findById('not-a-uuid')).toBeNull();
    });
  });

  it('works inside a transaction too', async () => {
    await store.transaction(async (tx) => {
      expect((await tx.views.findById(failed.id))?.runner).toMatchObject(replyFields(failed)!);
    });
  });
});
