import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aRunner, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore launch --worktree', () => {
  const t = useFakeApi();

  it('asks for a worktree and says where the runner works', async () => {
    const worktree = {
      runnerId: RUNNER_ID,
      path: `/data/worktrees/web-app/${RUNNER_ID}`,
      branch: `stratavore/${RUNNER_ID}`,
      baseCommit: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    };
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: { prompt: 'try it', queue: false, worktree: true },
      status: 201,
      reply: {
        status: 'launched',
        runner: aRunner({ state: 'starting', cwd: worktree.path, worktree }),
      },
    });

    const result = await runCommand(['launch', 'web-app', '--worktree', '--prompt', 'try it'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Worktree ${worktree.path} on branch stratavore/${RUNNER_ID}.`);
  });

  it('exits 2 naming the field when the project is not a git repository', async () => {
    const message =
      "invalid payload: worktree: expected project web-app's path to be in a git repository with a commit: the path /src/web-app is not in a git repository";
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: { queue: false, worktree: true },
      status: 400,
      reply: {
        ...apiError(400, 'VALIDATION_FAILED', message),
        errors: [
          {
            field: 'worktree',
            message:
              "expected project web-app's path to be in a git repository with a commit: the path /src/web-app is not in a git repository",
          },
        ],
      },
    });

    const result = await runCommand(['launch', 'web-app', '--worktree'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('worktree: expected project web-app');
  });
});
