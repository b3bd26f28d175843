import { aBudget, aGlobalBudget, BUDGET_ID } from '../../testing/budget-fixtures.test-support';
import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore budgets rm', () => {
  const t = useFakeApi();

  it('removes a budget by id', async () => {
    t.api().expect(
      { method: 'DELETE', path: `/api/v1/budgets/${BUDGET_ID}`, reply: { removed: aBudget() } },
      {
        method: 'GET',
        path: '/api/v1/projects?includeArchived=true',
        reply: { projects: [aProject()] },
      },
    );

    const result = await runCommand(['budgets', 'rm', BUDGET_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Removed the project web-app budget ${BUDGET_ID}.`);
  });

  it('removes the global budget, or a project budget by name', async () => {
    t.api().expect(
      {
        method: 'DELETE',
        path: '/api/v1/budgets?scope=global',
        reply: { removed: aGlobalBudget() },
      },
      { method: 'DELETE', path: '/api/v1/budgets?project=web-app', reply: { removed: aBudget() } },
    );

    const global = await runCommand(['budgets', 'rm', '--global'], { env: t.env() });
    const project = await runCommand(['budgets', 'rm', '--project', 'web-app', '--json'], {
      env: t.env(),
    });

    expect(global.stdout).toContain('Removed the global budget');
    expect(project.exitCode).toBe(0);
    expect(JSON.parse(project.stdout)).toMatchObject({ id: BUDGET_ID });
  });

  it('exits 2 unless exactly one of ID, --global and --project is given', async () => {
    const none = await runCommand(['budgets', 'rm'], { env: t.env() });
    const two = await runCommand(['budgets', 'rm', BUDGET_ID, '--global'], { env: t.env() });
    const both = await runCommand(['budgets', 'rm', '--global', '--project', 'x'], {
      env: t.env(),
    });

    for (const result of [none, two]) {
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('give its ID, --global or --project NAME');
    }
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--project');
  });

  it('exits 3 when there is no such budget', async () => {
    t.api().expect({
      method: 'DELETE',
      path: '/api/v1/budgets?scope=global',
      status: 404,
      reply: apiError(404, 'BUDGET_NOT_FOUND', 'no budget for the global scope'),
    });

    const result = await runCommand(['budgets', 'rm', '--global'], { env: t.env() });

    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('no budget for the global scope');
  });
});
