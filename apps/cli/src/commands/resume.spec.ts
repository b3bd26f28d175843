import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aRunner, PROJECT_ID, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

const SESSION = '7f3c2a10-4b9e-4d5c-8a61-2e0f9d1b7c44';

describe('stratavore resume', () => {
  const t = useFakeApi();

  it('resumes the session and prints the runner', async () => {
    t.api().expect({
      method: 'POST',
      path: `/api/v1/sessions/${SESSION}/resume`,
      body: { queue: false },
      status: 201,
      reply: {
        status: 'launched',
        runner: aRunner({
          state: 'starting',
          prompt: 'continue',
          resumedFrom: SESSION,
          command: [
            'claude',
            '-p',
            '--output-format',
            'stream-json',
            '--verbose',
            '--resume',
            SESSION,
          ],
        }),
      },
    });

    const result = await runCommand(['resume', SESSION], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Resuming session ${SESSION} in runner ${RUNNER_ID}.`);
    expect(result.stdout).toContain(`${RUNNER_ID}  web-app  starting`);
  });

  it('sends the prompt, Claude and restart flags, and prints JSON with --json', async () => {
    t.api().expect({
      method: 'POST',
      path: `/api/v1/sessions/${SESSION}/resume`,
      body: {
        prompt: 'now the tests',
        queue: true,
        model: 'opus',
        maxTurns: 3,
        restart: 'on-failure',
      },
      status: 201,
      reply: { status: 'launched', runner: aRunner({ resumedFrom: SESSION }) },
    });

    const result = await runCommand(
      [
        'resume',
        SESSION,
        '--prompt',
        'now the tests',
        '--queue',
        '--model',
        'opus',
        '--max-turns',
        '3',
        '--restart',
        'on-failure',
        '--json',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: RUNNER_ID, resumedFrom: SESSION });
  });

  it('reports a queued resume (202)', async () => {
    t.api().expect({
      method: 'POST',
      path: `/api/v1/sessions/${SESSION}/resume`,
      status: 202,
      reply: {
        status: 'queued',
        queuedLaunch: {
          id: RUNNER_ID,
          project: { id: PROJECT_ID, name: 'web-app' },
          position: 2,
          mode: 'headless',
          command: ['claude', '-p', '--resume', SESSION],
          prompt: 'continue',
          createdAt: '2026-11-24T10:00:00.000Z',
        },
      },
    });

    const result = await runCommand(['resume', SESSION, '--queue'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('queued as');
    expect(result.stdout).toContain('at position 2');
  });

  it.each([
    [404, 'SESSION_NOT_FOUND', `session ${SESSION} not found`, 3],
    [
      409,
      'SESSION_NOT_RESUMABLE',
      `session ${SESSION} cannot be resumed: runner r is still working in it`,
      4,
    ],
    [503, 'SESSION_STORE_UNAVAILABLE', 'session-store unavailable: no responder', 1],
  ])(
    'exits with the code for %i %s and the server message',
    async (status, code, message, exit) => {
      t.api().expect({
        method: 'POST',
        path: `/api/v1/sessions/${SESSION}/resume`,
        status,
        reply: apiError(status, code, message),
      });

      const result = await runCommand(['resume', SESSION], { env: t.env() });

      expect(result.exitCode).toBe(exit);
      expect(result.stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')).toContain(message);
    },
  );

  it('exits 2 on an empty prompt or a bad flag, naming it', async () => {
    const empty = await runCommand(['resume', SESSION, '--prompt', ' '], { env: t.env() });
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain('--prompt must not be empty');

    const bad = await runCommand(['resume', SESSION, '--max-restarts', '2'], { env: t.env() });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--max-restarts needs --restart on-failure');
  });

  it('exits 2 without a session id', async () => {
    const result = await runCommand(['resume'], { env: t.env() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('session-id');
  });
});
