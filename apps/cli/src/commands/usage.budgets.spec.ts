import { aBudget, aGlobalBudget } from '../testing/budget-fixtures.test-support';
import { useFakeApi } from '../testing/command-test-env.test-support';
import { aProject } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';
import { aUsage } from '../testing/session-fixtures.test-support';

describe('stratavore usage with budgets', () => {
  const t = useFakeApi();

  it('adds the budget consumption of the current periods after the usage', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/usage?by=project&project=web-app', reply: aUsage() },
      {
        method: 'GET',
        path: '/api/v1/budgets?project=web-app',
        reply: { budgets: [aGlobalBudget(), aBudget()] },
      },
      {
        method: 'GET',
        path: '/api/v1/projects?includeArchived=true',
        reply: { projects: [aProject()] },
      },
    );

    const result = await runCommand(['usage', '--project', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const [usage, budgets] = result.stdout.split('Budgets (current periods)\n');
    expect(usage).toMatch(/^Usage from /);
    expect(budgets).toMatch(
      /^SCOPE\s+PERIOD\s+LIMIT\s+USED\s+RESERVED\s+LEFT\s+PERIOD END\s+STATUS/,
    );
    expect(budgets).toMatch(
      /global\s+monthly\s+\$25\.00\s+\$25\.50\s+\$0\.00\s+\$0\.00\s+2026-12-01 00:00 UTC\s+exceeded/,
    );
    expect(budgets).toMatch(
      /project web-app\s+daily\s+1\.0M tok\s+250\.0k tok\s+40\.0k tok\s+710\.0k tok/,
    );
  });

  it('says when no budget limits the spending', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/usage?by=project', reply: aUsage() },
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
    );

    const result = await runCommand(['usage'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout.trimEnd()).toMatch(/No budgets: spending is unlimited\.$/);
  });
});
