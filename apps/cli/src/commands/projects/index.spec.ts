import { useFakeApi } from '../../testing/command-test-env.test-support';
import { aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore projects', () => {
  const t = useFakeApi();

  it('lists projects as a table and as JSON', async () => {
    const project = aProject();
    t.api().expect(
      { method: 'GET', path: '/api/v1/projects', reply: { projects: [project] } },
      {
        method: 'GET',
        path: '/api/v1/projects?includeArchived=true',
        reply: { projects: [project] },
      },
    );

    const table = await runCommand(['projects'], { env: t.env() });
    const json = await runCommand(['projects', '--archived', '--json'], { env: t.env() });

    expect(table.stdout).toMatch(/NAME\s+MAX\s+COMMAND\s+PATH\s+DESCRIPTION/);
    expect(table.stdout).toMatch(/web-app\s+2\s+claude\s+\/src\/web-app\s+the shop/);
    expect(JSON.parse(json.stdout)).toEqual([project]);
  });
});
