import { Test, type TestingModule } from '@nestjs/testing';
import {
  type LaunchRunnerReply,
  type ProjectReply,
  RUNNER_MANAGER_SERVICE,
  RunnerErrorCode,
} from '@stratavore/contracts';
import { InProcessBus, RemoteRequestError } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { RunnerManagerModule } from './runner-manager.module';
import {
  FakeLauncher,
  migrateMessaging,
  runtimeStandIn,
  TEST_SIGNING_KEY,
} from './runner-manager.test-support';

describe('RunnerManagerModule over the in-process bus', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  const launcher = new FakeLauncher();

  beforeAll(async () => {
    db = await createTestDatabase('runner_manager_module');
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

  it('creates a project and launches a runner through bus requests', async () => {
    const project = await bus.request<ProjectReply>(RUNNER_MANAGER_SERVICE, 'projects.create', {
      name: 'via-bus',
      path: '/srv/via-bus',
      maxRunners: 1,
      env: [{ name: 'TOKEN', value: 's3cret', secret: true }],
    });
    expect(project).toMatchObject({ name: 'via-bus', command: ['claude'], maxRunners: 1 });
    expect(project.env).toEqual([{ name: 'TOKEN', value: null, secret: true }]);

    const launched = await bus.request<LaunchRunnerReply>(
      RUNNER_MANAGER_SERVICE,
      'runners.launch',
      { project: 'via-bus', prompt: 'hello' },
      { correlationId: 'bus-corr' },
    );
    expect(launched).toMatchObject({
      status: 'launched',
      runner: { project: { id: project.id, name: 'via-bus' }, state: 'starting', pid: null },
    });
    expect(launcher.launches).toHaveLength(1);
    expect(launcher.launches[0]?.project.env).toEqual([
      { name: 'TOKEN', value: 's3cret', secret: true },
    ]);

    const refused = bus.request(RUNNER_MANAGER_SERVICE, 'runners.launch', { project: 'via-bus' });
    await expect(refused).rejects.toMatchObject({ code: RunnerErrorCode.QuotaExceeded });
  });

  it('answers a malformed payload with ValidationFailed naming the field', async () => {
    let caught: unknown;
    try {
      await bus.request(RUNNER_MANAGER_SERVICE, 'projects.create', {
        name: 'Bad Name',
        path: '/x',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RemoteRequestError);
    const error = caught as RemoteRequestError;
    expect(error.code).toBe(RunnerErrorCode.ValidationFailed);
    expect(error.details).toEqual({
      issues: [
        { field: 'name', message: expect.stringMatching(/expected a project name/) as string },
      ],
    });
    await expect(
      bus.request(RUNNER_MANAGER_SERVICE, 'runners.get', { runner: 42 }),
    ).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: { issues: [{ field: 'runner' }] },
    });
    await expect(bus.request(RUNNER_MANAGER_SERVICE, 'runners.nope', {})).rejects.toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: { issues: [{ field: 'pattern' }] },
    });
  });
});
