import { useFakeApi } from '../../testing/command-test-env.test-support';
import { aProject } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore projects update', () => {
  const t = useFakeApi();

  it('patches only the given fields', async () => {
    t.api().expect({
      method: 'PATCH',
      path: '/api/v1/projects/web-app',
      body: { maxRunners: 4 },
      reply: aProject({ maxRunners: 4 }),
    });

    const result = await runCommand(
      ['projects', 'update', 'web-app', '--max-runners', '4', '--json'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ maxRunners: 4 });
  });

  it('exits 2 when nothing would change', async () => {
    const result = await runCommand(['projects', 'update', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Nothing to change');
  });
});

describe('stratavore projects update with a launch estimate', () => {
  const t = useFakeApi();

  it('sets the token estimate and clears the USD one with none', async () => {
    t.api().expect({
      method: 'PATCH',
      path: '/api/v1/projects/web-app',
      body: { estimateTokens: 300_000, estimateUsd: null },
      reply: aProject({ estimateTokens: 300_000, estimateUsd: null }),
    });

    const result = await runCommand(
      ['projects', 'update', 'web-app', '--estimate-tokens', '300k', '--estimate-usd', 'none'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Launch estimate\s+300\.0k tokens/);
  });
});
