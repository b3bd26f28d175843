import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aRunner, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore launch: Claude Code and restart flags', () => {
  const t = useFakeApi();

  it('sends the Claude flags and the restart policy', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: {
        prompt: 'add tests',
        queue: false,
        model: 'sonnet',
        maxTurns: 20,
        allowedTools: ['Bash(git *)', 'Read', 'Edit'],
        permissionMode: 'acceptEdits',
        restart: 'on-failure',
        maxRestarts: 5,
      },
      status: 201,
      reply: {
        status: 'launched',
        runner: aRunner({
          state: 'pending',
          restartPolicy: 'on-failure',
          maxRestarts: 5,
          restarts: 0,
        }),
      },
    });

    const result = await runCommand(
      [
        'launch',
        'web-app',
        '--prompt',
        'add tests',
        '--model',
        'sonnet',
        '--max-turns',
        '20',
        '--allowed-tools',
        'Bash(git *), Read,Edit',
        '--permission-mode',
        'acceptEdits',
        '--restart',
        'on-failure',
        '--max-restarts',
        '5',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/RESTARTS/);
    expect(result.stdout).toMatch(new RegExp(`${RUNNER_ID}.*0/5`));
  });

  it.each([
    [['--max-turns', '0'], '--max-turns'],
    [['--max-turns', 'many'], '--max-turns'],
    [['--model', '--x'], '--model'],
    [['--allowed-tools', ','], '--allowed-tools'],
    [['--permission-mode', 'yolo'], '--permission-mode'],
    [['--restart', 'always'], '--restart'],
    [['--max-restarts', '3'], '--max-restarts needs --restart on-failure'],
    [['--restart', 'on-failure', '--max-restarts', '101'], '--max-restarts'],
  ])('exits 2 on %j, naming the flag', async (flags, named) => {
    const result = await runCommand(['launch', 'web-app', '--prompt', 'x', ...flags], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it("exits 2 with the server's field errors (a Claude flag for another command)", async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/shell/runners',
      status: 400,
      reply: {
        ...apiError(400, 'VALIDATION_FAILED', 'invalid payload'),
        errors: [
          { field: 'model', message: 'applies to Claude Code only; the command is "bash -c make"' },
        ],
      },
    });

    const result = await runCommand(['launch', 'shell', '--prompt', 'x', '--model', 'opus'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('model: applies to Claude Code only');
  });
});
