import { type RunnerLogsReply } from '@stratavore/contracts';

import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand, startCommand, waitFor } from '../testing/run-command.test-support';

const LOGS = `/api/v1/runners/${RUNNER_ID}/logs`;
const LIMIT = 'limit=1048576';

function window(overrides: Partial<RunnerLogsReply> = {}): RunnerLogsReply {
  return {
    content: 'hello\n',
    offset: 0,
    nextOffset: 6,
    size: 6,
    runnerState: 'running',
    ended: false,
    ...overrides,
  };
}

describe('stratavore logs', () => {
  const t = useFakeApi();

  it('prints the whole log as it is, reading on while the first read did not reach its size', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        reply: window({ content: 'one\n', nextOffset: 4, size: 9 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=4&${LIMIT}`,
        reply: window({ content: 'two\n', offset: 4, nextOffset: 8, size: 12 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=8&${LIMIT}`,
        reply: window({ content: 'thr', offset: 8, nextOffset: 11, size: 12 }),
      },
    );

    const result = await runCommand(['logs', RUNNER_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('one\ntwo\nthr');
    expect(result.stderr).toBe('');
  });

  it('says so on stderr when there is no output yet, or when the runner ended', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        reply: window({ content: '', nextOffset: 0, size: 0, runnerState: 'starting' }),
      },
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        reply: window({ runnerState: 'completed', ended: true }),
      },
    );

    const empty = await runCommand(['logs', RUNNER_ID], { env: t.env() });
    const ended = await runCommand(['logs', RUNNER_ID], { env: t.env() });

    expect(empty).toMatchObject({ exitCode: 0, stdout: '' });
    expect(empty.stderr).toContain(`no output yet (runner ${RUNNER_ID} is starting)`);
    expect(ended).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
    expect(ended.stderr).toContain(`runner ${RUNNER_ID} ended (completed)`);
  });

  it('--tail starts with the last lines; --follow polls from nextOffset until ended, then exits 0', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}&tail=2`,
        reply: window({ content: 'b\nc\n', offset: 20, nextOffset: 24, size: 24 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=24&${LIMIT}`,
        reply: window({ content: '', offset: 24, nextOffset: 24, size: 24 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=24&${LIMIT}`,
        reply: window({ content: 'd\n', offset: 24, nextOffset: 26, size: 26 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=26&${LIMIT}`,
        reply: window({
          content: 'bye\n',
          offset: 26,
          nextOffset: 30,
          size: 30,
          runnerState: 'completed',
          ended: true,
        }),
      },
    );

    const result = await runCommand(
      ['logs', RUNNER_ID, '--tail', '2', '--follow', '--poll-interval', '10'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('b\nc\nd\nbye\n');
    expect(result.stderr).toContain('ended (completed)');
  });

  it('keeps following through a server that is briefly away', async () => {
    t.api().expect(
      { method: 'GET', path: `${LOGS}?${LIMIT}`, reply: window() },
      {
        method: 'GET',
        path: `${LOGS}?offset=6&${LIMIT}`,
        status: 503,
        reply: apiError(503, 'UPSTREAM_UNAVAILABLE', 'runner-manager is not answering'),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=6&${LIMIT}`,
        reply: window({ content: 'bye\n', offset: 6, nextOffset: 10, size: 10, ended: true }),
      },
    );

    const result = await runCommand(['logs', RUNNER_ID, '-f', '--poll-interval', '10'], {
      env: t.env(),
    });

    expect(result).toMatchObject({ exitCode: 0, stdout: 'hello\nbye\n' });
    expect(result.stderr).toContain('runner-manager is not answering; still trying');
  });

  it('stops following on Ctrl-C and exits 0', async () => {
    t.api().expect({ method: 'GET', path: `${LOGS}?${LIMIT}`, reply: window() });

    const running = startCommand(['logs', RUNNER_ID, '--follow', '--poll-interval', '60000'], {
      env: t.env(),
    });
    await waitFor(() => running.output() === 'hello\n', 'the first window');
    process.emit('SIGINT');
    const result = await running.result;

    expect(result).toMatchObject({ exitCode: 0, stdout: 'hello\n' });
  });

  it('--json prints the runner id, the content, nextOffset and ended', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        reply: window({ content: 'h\u00e9', nextOffset: 3, size: 5 }),
      },
      {
        method: 'GET',
        path: `${LOGS}?offset=3&${LIMIT}`,
        reply: window({
          content: 'y\n',
          offset: 3,
          nextOffset: 5,
          size: 5,
          runnerState: 'failed',
          ended: true,
        }),
      },
    );

    const result = await runCommand(['logs', RUNNER_ID, '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      runnerId: RUNNER_ID,
      content: 'h\u00e9y\n',
      nextOffset: 5,
      ended: true,
    });
  });

  it('exits 3 for an unknown runner or a log out of reach, 2 for a bad id or --tail', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        status: 404,
        reply: apiError(404, 'RUNNER_NOT_FOUND', 'no such runner'),
      },
      {
        method: 'GET',
        path: `${LOGS}?${LIMIT}`,
        status: 404,
        reply: apiError(404, 'RUNNER_LOG_UNAVAILABLE', 'the log is on host b'),
      },
    );

    const missing = await runCommand(['logs', RUNNER_ID], { env: t.env() });
    const elsewhere = await runCommand(['logs', RUNNER_ID, '--follow'], { env: t.env() });
    const badId = await runCommand(['logs', 'abc'], { env: t.env() });
    const badTail = await runCommand(['logs', RUNNER_ID, '--tail', '-3'], { env: t.env() });

    expect(missing.exitCode).toBe(3);
    expect(elsewhere.exitCode).toBe(3);
    expect(elsewhere.stderr).toContain('the log is on host b');
    expect(badId.exitCode).toBe(2);
    expect(badId.stderr).toContain('RUNNER-ID');
    expect(badTail.exitCode).toBe(2);
  });

  it('explains itself in --help, with examples', async () => {
    const result = await runCommand(['logs', '--help'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('--follow');
    expect(result.stdout).toContain('--tail');
    expect(result.stdout).toContain('logs 0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10 --follow');
    expect(result.stdout).not.toContain('poll-interval');
  });
});
