import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aRunner, RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore runners show', () => {
  const t = useFakeApi();

  const worktree = {
    runnerId: RUNNER_ID,
    path: `/data/worktrees/web-app/${RUNNER_ID}`,
    branch: `stratavore/${RUNNER_ID}`,
    baseCommit: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  };

  it('shows the runner with the worktree it works in', async () => {
    t.api().expect({
      method: 'GET',
      path: `/api/v1/runners/${RUNNER_ID}`,
      reply: aRunner({ cwd: worktree.path, worktree }),
    });

    const result = await runCommand(['runners', 'show', RUNNER_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Runner\\s+${RUNNER_ID}`));
    expect(result.stdout).toMatch(/State\s+running/);
    expect(result.stdout).toMatch(new RegExp(`Directory\\s+${worktree.path}`));
    expect(result.stdout).toContain(
      `Worktree      ${worktree.path} (branch stratavore/${RUNNER_ID} from 1a2b3c4d)`,
    );
  });

  it('prints the runner object with --json, and - without a worktree', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: `/api/v1/runners/${RUNNER_ID}`,
        reply: aRunner({ worktree }),
      },
      { method: 'GET', path: `/api/v1/runners/${RUNNER_ID}`, reply: aRunner() },
    );

    const json = await runCommand(['runners', 'show', RUNNER_ID, '--json'], { env: t.env() });
    const plain = await runCommand(['runners', 'show', RUNNER_ID], { env: t.env() });

    expect(JSON.parse(json.stdout)).toMatchObject({ id: RUNNER_ID, worktree });
    expect(plain.stdout).toMatch(/Worktree\s+-/);
  });

  it('exits 3 for an unknown runner and 2 for a malformed id', async () => {
    t.api().expect({
      method: 'GET',
      path: `/api/v1/runners/${RUNNER_ID}`,
      status: 404,
      reply: apiError(404, 'RUNNER_NOT_FOUND', `runner ${RUNNER_ID} not found`),
    });

    const missing = await runCommand(['runners', 'show', RUNNER_ID], { env: t.env() });
    const malformed = await runCommand(['runners', 'show', 'r1'], { env: t.env() });

    expect(missing.exitCode).toBe(3);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toContain('RUNNER-ID must be a runner id');
  });
});
