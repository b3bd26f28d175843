import { aBudget, aGlobalBudget } from '../../testing/budget-fixtures.test-support';
import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore budgets', () => {
  const t = useFakeApi();

  it('prints scope, limit, used, reserved, left, period end and status, with project names', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/budgets',
        reply: { budgets: [aGlobalBudget(), aBudget()] },
      },
      {
        method: 'GET',
        path: '/api/v1/projects?includeArchived=true',
        reply: { projects: [aProject()] },
      },
    );

    const result = await runCommand(['budgets'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^SCOPE\s+PERIOD\s+LIMIT\s+USED\s+RESERVED\s+LEFT\s+PERIOD END\s+STATUS\s+ENFORCE$/,
    );
    expect(lines[1]).toMatch(
      /^global\s+monthly\s+\$25\.00\s+\$25\.50\s+\$0\.00\s+\$0\.00\s+2026-12-01 00:00 UTC\s+exceeded\s+hard$/,
    );
    expect(lines[2]).toMatch(
      /^project web-app\s+daily\s+1\.0M tok\s+250\.0k tok\s+40\.0k tok\s+710\.0k tok\s+2026-11-25 00:00 UTC\s+ok\s+hard$/,
    );
  });

  it('prints the budgets as JSON without asking for project names', async () => {
    t.api().expect({ method: 'GET', path: '/api/v1/budgets', reply: { budgets: [aBudget()] } });

    const result = await runCommand(['budgets', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([aBudget()]);
  });

  it('shows the budgets covering one project, and says when there are none', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/budgets?project=web-app',
      reply: { budgets: [] },
    });

    const result = await runCommand(['budgets', '--project', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('No budgets: spending is unlimited.');
  });

  it('exits 1 when budget-service is down', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/budgets',
      status: 503,
      reply: apiError(
        503,
        'UPSTREAM_UNAVAILABLE',
        'no responder for budget-service (budgets.list)',
      ),
    });

    const result = await runCommand(['budgets'], { env: t.env() });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no responder for budget-service');
  });
});
