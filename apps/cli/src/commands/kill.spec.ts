import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aRunner, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore kill', () => {
  const t = useFakeApi();

  it('stops the runner, with force', async () => {
    t.api().expect({
      method: 'POST',
      path: `/api/v1/runners/${RUNNER_ID}/stop`,
      body: { force: true },
      reply: aRunner({ state: 'stopping', desiredState: 'kill' }),
    });

    const result = await runCommand(['kill', RUNNER_ID, '--force'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Killing runner ${RUNNER_ID} (stopping)`);
  });

  it('prints the runner with --json', async () => {
    const runner = aRunner({ state: 'stopping', desiredState: 'stop' });
    t.api().expect({
      method: 'POST',
      path: `/api/v1/runners/${RUNNER_ID}/stop`,
      body: { force: false },
      reply: runner,
    });

    const result = await runCommand(['kill', RUNNER_ID, '--json'], { env: t.env() });

    expect(JSON.parse(result.stdout)).toEqual(runner);
  });

  it('exits 3 for an unknown runner and 4 for an ended one', async () => {
    t.api().expect(
      {
        method: 'POST',
        path: `/api/v1/runners/${RUNNER_ID}/stop`,
        status: 404,
        reply: apiError(404, 'RUNNER_NOT_FOUND', 'no such runner'),
      },
      {
        method: 'POST',
        path: `/api/v1/runners/${RUNNER_ID}/stop`,
        status: 409,
        reply: apiError(409, 'RUNNER_ALREADY_ENDED', 'runner already ended'),
      },
    );

    const missing = await runCommand(['kill', RUNNER_ID], { env: t.env() });
    const ended = await runCommand(['kill', RUNNER_ID], { env: t.env() });

    expect(missing.exitCode).toBe(3);
    expect(ended.exitCode).toBe(4);
    expect(ended.stderr).toContain('runner already ended');
  });

  it('exits 2 for an id that is not a uuid', async () => {
    const result = await runCommand(['kill', 'abc'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('RUNNER-ID');
  });
});
