import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore projects show', () => {
  const t = useFakeApi();

  it('shows the project, secrets hidden; exits 3 when missing', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/projects/web-app', reply: aProject() },
      {
        method: 'GET',
        path: '/api/v1/projects/nope',
        status: 404,
        reply: apiError(404, 'PROJECT_NOT_FOUND', 'no project nope'),
      },
    );

    const found = await runCommand(['projects', 'show', 'web-app'], { env: t.env() });
    const missing = await runCommand(['projects', 'show', 'nope'], { env: t.env() });

    expect(found.stdout).toMatch(/Max runners\s+2/);
    expect(found.stdout).toContain('TOKEN=(secret)');
    expect(missing.exitCode).toBe(3);
  });
});
