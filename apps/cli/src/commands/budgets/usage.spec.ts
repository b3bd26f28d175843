import { aUsageSummary } from '../../testing/budget-fixtures.test-support';
import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore budgets usage', () => {
  const t = useFakeApi();

  it('prints the budgets, then usage per day and project with totals', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/budgets/usage?project=web-app&days=30&timeZone=Europe%2FBerlin',
        reply: aUsageSummary({ timeZone: 'Europe/Berlin' }),
      },
      {
        method: 'GET',
        path: '/api/v1/projects?includeArchived=true',
        reply: { projects: [aProject()] },
      },
    );

    const result = await runCommand(
      ['budgets', 'usage', '--project', 'web-app', '--days', '30', '--tz', 'Europe/Berlin'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/project web-app\s+daily\s+1\.0M tok/);
    expect(result.stdout).toContain(
      'Usage from 2026-11-17T10:00:00.000Z to 2026-11-24T10:00:00.000Z (days in Europe/Berlin):',
    );
    expect(result.stdout).toMatch(
      /2026-11-24\s+web-app\s+120\.0k\s+30\.0k\s+5\.0k\s+95\.0k\s+250\.0k\s+\$1\.50/,
    );
    expect(result.stdout).toMatch(/total\s+120\.0k\s+30\.0k\s+5\.0k\s+95\.0k\s+250\.0k\s+\$1\.50/);
  });

  it('prints the summary as JSON', async () => {
    t.api().expect({ method: 'GET', path: '/api/v1/budgets/usage', reply: aUsageSummary() });

    const result = await runCommand(['budgets', 'usage', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(aUsageSummary());
  });

  it('exits 2 on a bad window, with the field named by the server', async () => {
    const days = await runCommand(['budgets', 'usage', '--days', '0'], { env: t.env() });
    expect(days.exitCode).toBe(2);
    expect(days.stderr).toContain('--days');

    t.api().expect({
      method: 'GET',
      path: '/api/v1/budgets/usage?from=yesterday',
      status: 400,
      reply: {
        ...apiError(
          400,
          'VALIDATION_FAILED',
          'invalid query: from: expected an ISO 8601 date-time with offset',
        ),
        errors: [{ field: 'from', message: 'expected an ISO 8601 date-time with offset' }],
      },
    });
    const from = await runCommand(['budgets', 'usage', '--from', 'yesterday'], { env: t.env() });
    expect(from.exitCode).toBe(2);
    expect(from.stderr).toContain('from: expected an ISO 8601 date-time with offset');
  });
});
