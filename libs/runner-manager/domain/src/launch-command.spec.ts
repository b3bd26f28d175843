import { launchRunnerRequestSchema, RunnerErrorCode } from '@stratavore/contracts';

import { type LaunchCommandRequest, resolveLaunch } from './launch-command';
import { RunnerException } from './runner.exception';
import { parsePayload } from './validation';

const CLI = '/opt/node_modules/@anthropic-ai/claude-code/cli.js';
const HEADLESS = ['-p', '--output-format', 'stream-json', '--verbose'];

function request(extra: Partial<LaunchCommandRequest> = {}): LaunchCommandRequest {
  return { mode: 'headless', ...extra };
}

function issuesOf(run: () => unknown): Array<{ field: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof RunnerException && error.code === RunnerErrorCode.ValidationFailed) {
      return (error.details?.issues ?? []) as Array<{ field: string; message: string }>;
    }
    throw error;
  }
  throw new Error('expected ValidationFailed');
}

describe('resolveLaunch', () => {
  it('runs a Claude project headless with the prompt kept out of argv', () => {
    const launch = resolveLaunch(['claude'], request({ prompt: 'fix the flaky test' }));
    expect(launch).toEqual({
      command: ['claude', ...HEADLESS],
      prompt: 'fix the flaky test',
      restartPolicy: 'no',
      maxRestarts: 0,
    });
    expect(launch.command.join(' ')).not.toContain('flaky');
  });

  it('passes every Claude option as its CLI flag, for node .../cli.js too', () => {
    const launch = resolveLaunch(
      ['node', CLI],
      request({
        prompt: 'p',
        model: 'sonnet',
        maxTurns: 5,
        allowedTools: ['Bash', 'Read'],
        permissionMode: 'acceptEdits',
      }),
    );
    expect(launch.command).toEqual([
      'node',
      CLI,
      ...HEADLESS,
      '--model',
      'sonnet',
      '--max-turns',
      '5',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Bash,Read',
    ]);
  });

  it('resumes with --resume and the prompt "continue" by default', () => {
    expect(resolveLaunch(['claude', '--model', 'opus'], request(), 's-1')).toEqual({
      command: ['claude', '--model', 'opus', ...HEADLESS, '--resume', 's-1'],
      prompt: 'continue',
      restartPolicy: 'no',
      maxRestarts: 0,
    });
    expect(resolveLaunch(['claude'], request({ prompt: 'go on' }), 's-1').prompt).toBe('go on');
  });

  it('leaves other commands, Claude without a prompt and interactive launches as they are', () => {
    expect(resolveLaunch(['bash', '-c', 'make'], request({ prompt: 'x' })).command).toEqual([
      'bash',
      '-c',
      'make',
    ]);
    expect(resolveLaunch(['bash'], request({ prompt: 'x' })).prompt).toBe('x');
    expect(resolveLaunch(['claude'], request()).command).toEqual(['claude']);
    expect(
      resolveLaunch(['claude'], request({ mode: 'interactive', prompt: 'x' })).command,
    ).toEqual(['claude']);
  });

  it('takes the restart policy, with 3 restarts by default', () => {
    expect(resolveLaunch(['bash'], request({ restart: 'on-failure' }))).toMatchObject({
      restartPolicy: 'on-failure',
      maxRestarts: 3,
    });
    expect(
      resolveLaunch(['bash'], request({ restart: 'on-failure', maxRestarts: 7 })).maxRestarts,
    ).toBe(7);
  });

  it('refuses Claude options for another command, naming each field', () => {
    const issues = issuesOf(() =>
      resolveLaunch(['bash', '-c', 'make'], request({ prompt: 'x', model: 'opus', maxTurns: 3 })),
    );
    expect(issues.map((issue) => issue.field)).toEqual(['model', 'maxTurns']);
    expect(issues[0]?.message).toContain(
      'applies to Claude Code only; the command is "bash -c make"',
    );
  });

  it('refuses Claude options of an interactive launch, or without a prompt', () => {
    expect(
      issuesOf(() =>
        resolveLaunch(['claude'], request({ mode: 'interactive', permissionMode: 'plan' })),
      ),
    ).toEqual([{ field: 'permissionMode', message: 'applies to headless launches only' }]);
    expect(
      issuesOf(() => resolveLaunch(['claude'], request({ allowedTools: ['Read'] }))).map(
        (issue) => issue.field,
      ),
    ).toEqual(['prompt']);
  });

  it('refuses maxRestarts without on-failure and a resume of another command', () => {
    expect(
      issuesOf(() => resolveLaunch(['claude'], request({ prompt: 'x', maxRestarts: 2 }))),
    ).toEqual([{ field: 'maxRestarts', message: 'allowed only with restart on-failure' }]);
    expect(
      issuesOf(() => resolveLaunch(['bash'], request(), 's-1')).map((issue) => issue.field),
    ).toEqual(['session']);
  });
});

describe('launch request contract: Claude and restart fields', () => {
  it('accepts them', () => {
    expect(
      parsePayload(launchRunnerRequestSchema, {
        project: 'api',
        prompt: 'x',
        model: 'claude-sonnet-4-5@20250929',
        maxTurns: 10,
        allowedTools: ['Bash(git *)', 'Read'],
        permissionMode: 'bypassPermissions',
        restart: 'on-failure',
        maxRestarts: 2,
      }),
    ).toMatchObject({ model: 'claude-sonnet-4-5@20250929', restart: 'on-failure' });
  });

  it('names each bad field', () => {
    const issues = issuesOf(() =>
      parsePayload(launchRunnerRequestSchema, {
        project: 'api',
        model: '--evil',
        maxTurns: 0,
        allowedTools: ['Read,Write', ''],
        permissionMode: 'yolo',
        restart: 'always',
        maxRestarts: 101,
      }),
    );
    expect(issues.map((issue) => issue.field)).toEqual([
      'model',
      'maxTurns',
      'allowedTools.0',
      'allowedTools.1',
      'permissionMode',
      'restart',
      'maxRestarts',
    ]);
    expect(issues.find((issue) => issue.field === 'permissionMode')?.message).toContain(
      'acceptEdits',
    );
  });
});
