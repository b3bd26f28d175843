import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Test, type TestingModule } from '@nestjs/testing';
import {
  type LaunchRunnerReply,
  RUNNER_MANAGER_SERVICE,
  RunnerErrorCode,
  type RunnerLogsReply,
} from '@stratavore/contracts';
import { InProcessBus } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { RunnerManagerRequestHandler } from './runner-manager.handler';
import { RunnerManagerModule } from './runner-manager.module';
import { migrateMessaging, runtimeStandIn, TEST_SIGNING_KEY } from './runner-manager.test-support';

/**
 * A stand-in agent: writes what a child would print to `<STRATAVORE_LOG_DIR>/<runner-id>.log`,
 * as the real agent does, unless its prompt is `silent`, then exits.
 */
const FAKE_AGENT = `
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
if (process.env.STRATAVORE_PROMPT !== 'silent') {
  appendFileSync(
    join(process.env.STRATAVORE_LOG_DIR, process.env.STRATAVORE_RUNNER_ID + '.log'),
    'hello \\u2603\\nbye\\n',
  );
}
`;

describe('runners.logs through RunnerManagerModule and the local launcher', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  let dir: string;

  const logs = (payload: Record<string, unknown>) =>
    bus.request<RunnerLogsReply>(RUNNER_MANAGER_SERVICE, 'runners.logs', payload);

  async function launch(prompt: string): Promise<string> {
    const reply = await bus.request<LaunchRunnerReply>(RUNNER_MANAGER_SERVICE, 'runners.launch', {
      project: 'logs',
      prompt,
    });
    if (reply.status !== 'launched') throw new Error(`expected a launch, got ${reply.status}`);
    return reply.runner.id;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runner-logs-'));
    const agent = join(dir, 'fake-agent.js');
    writeFileSync(agent, FAKE_AGENT);
    db = await createTestDatabase('runner_manager_logs');
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
            baseEnv: { PATH: process.env.PATH },
            host: 'this-box',
          },
          poolSize: 4,
        }),
      ],
    }).compile();
    app.useLogger(false);
    await app.init();
    await bus.request(RUNNER_MANAGER_SERVICE, 'projects.create', {
      name: 'logs',
      path: dir,
      command: ['sh', '-c', 'echo hello'],
      maxRunners: 5,
    });
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the log the agent wrote, in whole characters, until the ended runner was read', async () => {
    const id = await launch('talk');
    const whole = await waitFor(
      async () => {
        const reply = await logs({ runner: id });
        return reply.content.endsWith('bye\n') ? reply : null;
      },
      { description: 'the fake agent to write the log', timeoutMs: 10_000 },
    );
    // "☃" is three bytes: hello(5) + space + 3 + newline + bye\n(4).
    expect(whole).toEqual({
      content: 'hello \u2603\nbye\n',
      offset: 0,
      nextOffset: 14,
      size: 14,
      runnerState: 'starting',
      ended: false,
    });

    // A limit that cuts the snowman stops before it; the next read starts with it.
    const first = await logs({ runner: id, limitBytes: 7 });
    expect(first).toMatchObject({ content: 'hello ', nextOffset: 6 });
    expect(await logs({ runner: id, offset: first.nextOffset, limitBytes: 4 })).toMatchObject({
      content: '\u2603\n',
      offset: 6,
      nextOffset: 10,
    });
    expect(await logs({ runner: id, tail: 1 })).toMatchObject({ content: 'bye\n', offset: 10 });

    const transitions = app.get(RunnerManagerRequestHandler).transitionRunner;
    const ctx = { correlationId: 'logs-int' };
    await transitions.execute({ runnerId: id, to: 'running', pid: 4242 }, ctx);
    await transitions.execute({ runnerId: id, to: 'completed', exitCode: 0 }, ctx);
    expect(await logs({ runner: id, offset: 10 })).toEqual({
      content: 'bye\n',
      offset: 10,
      nextOffset: 14,
      size: 14,
      runnerState: 'completed',
      ended: true,
    });
  });

  it('answers an empty log before the agent wrote one, and refuses one on another host', async () => {
    const id = await launch('silent');
    expect(await logs({ runner: id })).toMatchObject({
      content: '',
      offset: 0,
      nextOffset: 0,
      size: 0,
      ended: false,
    });

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`UPDATE runner.runners SET host = 'another-box' WHERE id = $1`, [id]);
    } finally {
      await client.end();
    }
    await expect(logs({ runner: id })).rejects.toMatchObject({
      code: RunnerErrorCode.RunnerLogUnavailable,
      details: { runner: id, host: 'another-box' },
    });
  });

  it('refuses an unknown runner and malformed reads, naming the field', async () => {
    await expect(logs({ runner: '00000000-0000-4000-8000-00000000dead' })).rejects.toMatchObject({
      code: RunnerErrorCode.RunnerNotFound,
    });
    const id = '00000000-0000-4000-8000-00000000beef';
    for (const [payload, field] of [
      [{ runner: 'nope' }, 'runner'],
      [{ runner: id, offset: -1 }, 'offset'],
      [{ runner: id, limitBytes: 2 * 1024 * 1024 }, 'limitBytes'],
      [{ runner: id, limitBytes: 0 }, 'limitBytes'],
      [{ runner: id, tail: 1.5 }, 'tail'],
      [{ runner: id, tail: 5, offset: 10 }, 'tail'],
      [{ runner: id, follow: true }, '(payload)'],
    ] as const) {
      await expect(logs(payload)).rejects.toMatchObject({
        code: RunnerErrorCode.ValidationFailed,
        details: { issues: [expect.objectContaining({ field }) as unknown] },
      });
    }
  });
});
