import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore projects archive', () => {
  const t = useFakeApi();

  it('archives, and exits 4 while runners are active', async () => {
    t.api().expect(
      {
        method: 'POST',
        path: '/api/v1/projects/web-app/archive',
        reply: aProject({ archivedAt: '2026-11-24T11:00:00.000Z' }),
      },
      {
        method: 'POST',
        path: '/api/v1/projects/busy/archive',
        status: 409,
        reply: apiError(409, 'PROJECT_HAS_ACTIVE_RUNNERS', 'busy has 1 active runner'),
      },
    );

    const archived = await runCommand(['projects', 'archive', 'web-app'], { env: t.env() });
    const refused = await runCommand(['projects', 'archive', 'busy'], { env: t.env() });

    expect(archived.stdout).toContain('Archived project web-app');
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toContain('busy has 1 active runner');
  });
});
