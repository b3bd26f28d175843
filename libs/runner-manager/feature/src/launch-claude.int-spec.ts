import { type ProjectReply, RunnerErrorCode } from '@stratavore/contracts';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { RunnerException } from '@stratavore/runner-manager-domain';
import { createTestDatabase, type TestDatabase, uniqueName } from '@stratavore/testing';

import { CreateProject } from './project.use-cases';
import { LaunchRunner, TransitionRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import {
  FakeLauncher,
  migrateMessaging,
  TEST_SIGNING_KEY,
  testDeps,
} from './runner-manager.test-support';
import { randomRunnerTokens } from './runner-token';

const ctx = { correlationId: 'claude-launch' };
const CLI = '/opt/node_modules/@anthropic-ai/claude-code/cli.js';

describe('launching Claude Code headless on PostgreSQL', () => {
  let db: TestDatabase;
  let store: RunnerManagerStore;
  let launcher: FakeLauncher;
  let deps: RunnerManagerDeps;

  beforeAll(async () => {
    db = await createTestDatabase('runner_claude_launch');
    await migrateMessaging(db.url);
    store = await RunnerManagerStore.open(db.url, { poolSize: 4 });
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

  async function project(command: string[], maxRunners = 1): Promise<ProjectReply> {
    const name = uniqueName('c').slice(0, 40);
    return new CreateProject(deps).execute({
      name,
      path: `/srv/${name}`,
      description: '',
      command,
      maxRunners,
      env: [],
    });
  }

  it('runs the project command as claude -p stream-json with the options, the prompt apart', async () => {
    const p = await project(['node', CLI]);
    const reply = await new LaunchRunner(deps).execute(
      {
        project: p.name,
        prompt: 'write the changelog',
        mode: 'headless',
        queue: false,
        model: 'sonnet',
        maxTurns: 8,
        allowedTools: ['Bash(git *)', 'Read'],
        permissionMode: 'acceptEdits',
      },
      ctx,
    );
    expect(reply).toMatchObject({
      status: 'launched',
      runner: {
        prompt: 'write the changelog',
        cwd: p.path,
        command: [
          'node',
          CLI,
          '-p',
          '--output-format',
          'stream-json',
          '--verbose',
          '--model',
          'sonnet',
          '--max-turns',
          '8',
          '--permission-mode',
          'acceptEdits',
          '--allowedTools',
          'Bash(git *),Read',
        ],
      },
    });
    // The launcher hands the prompt to the agent, which writes it to the command's stdin.
    expect(launcher.launches.at(-1)?.runner.prompt).toBe('write the changelog');
  });

  it('keeps the built command and the restart policy of a queued launch for its admission', async () => {
    const p = await project(['claude']);
    const first = await new LaunchRunner(deps).execute(
      { project: p.id, prompt: 'a', mode: 'headless', queue: false },
      ctx,
    );
    const queued = await new LaunchRunner(deps).execute(
      {
        project: p.id,
        prompt: 'b',
        mode: 'headless',
        queue: true,
        model: 'opus',
        restart: 'on-failure',
        maxRestarts: 4,
      },
      ctx,
    );
    expect(queued).toMatchObject({ status: 'queued' });
    if (first.status !== 'launched') throw new Error('expected a launch');
    await new TransitionRunner(deps).execute(
      { runnerId: first.runner.id, to: 'failed', failureReason: 'nonzero_exit' },
      ctx,
    );
    const admitted = launcher.launches.at(-1)?.runner;
    expect(admitted).toMatchObject({
      prompt: 'b',
      command: ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--model', 'opus'],
      restartPolicy: 'on-failure',
      maxRestarts: 4,
      restarts: 0,
      cwd: p.path,
    });
  });

  it('refuses Claude options for another command with the field named, before anything starts', async () => {
    const p = await project(['bash', '-c', 'make test']);
    const before = launcher.launches.length;
    let caught: unknown;
    try {
      await new LaunchRunner(deps).execute(
        { project: p.id, prompt: 'x', mode: 'headless', queue: false, model: 'opus' },
        ctx,
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RunnerException);
    expect(caught).toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      details: {
        issues: [
          {
            field: 'model',
            message: 'applies to Claude Code only; the command is "bash -c make test"',
          },
        ],
      },
    });
    expect(launcher.launches).toHaveLength(before);
  });
});
