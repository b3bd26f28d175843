import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aProject } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore new', () => {
  const t = useFakeApi();

  it('creates the project from the flags, the path made absolute', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects',
      body: {
        name: 'web-app',
        path: '/src/web-app',
        description: 'the shop',
        command: ['claude', '--model', 'opus 4'],
        maxRunners: 2,
        env: [
          { name: 'NODE_ENV', value: 'test', secret: false },
          { name: 'TOKEN', value: 'abc=1', secret: true },
        ],
      },
      status: 201,
      reply: aProject(),
    });

    const result = await runCommand(
      [
        'new',
        'web-app',
        '--path',
        '/src/web-app',
        '--max-runners',
        '2',
        '--command',
        'claude --model "opus 4"',
        '--env',
        'NODE_ENV=test',
        '--secret-env',
        'TOKEN=abc=1',
        '--description',
        'the shop',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Created project web-app');
    expect(result.stdout).toMatch(/Env\s+NODE_ENV=test, TOKEN=\(secret\)/);
  });

  it('defaults the path to the current directory and prints JSON', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects',
      body: { name: 'web-app', path: process.cwd(), env: [] },
      status: 201,
      reply: aProject(),
    });

    const result = await runCommand(['new', 'web-app', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(aProject());
  });

  it('exits 2 naming --env when a variable is not KEY=VALUE', async () => {
    const result = await runCommand(['new', 'web-app', '--env', 'oops'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--env');
    expect(result.stderr).toContain('expected KEY=VALUE');
  });

  it('exits 2 naming --max-runners when out of range', async () => {
    const result = await runCommand(['new', 'web-app', '--max-runners', '0'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--max-runners');
  });

  it('exits 4 when the name is taken', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects',
      status: 409,
      reply: apiError(409, 'PROJECT_NAME_TAKEN', 'project web-app exists'),
    });

    const result = await runCommand(['new', 'web-app', '--path', '/x'], { env: t.env() });

    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('project web-app exists');
  });
});

describe('stratavore new with a launch estimate', () => {
  const t = useFakeApi();

  it("sends the project's default launch estimate and shows it", async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects',
      body: {
        name: 'web-app',
        path: '/src/web-app',
        env: [],
        estimateTokens: 200_000,
        estimateUsd: 2,
      },
      status: 201,
      reply: aProject({ estimateTokens: 200_000, estimateUsd: 2 }),
    });

    const result = await runCommand(
      [
        'new',
        'web-app',
        '--path',
        '/src/web-app',
        '--estimate-tokens',
        '200000',
        '--estimate-usd',
        '$2',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Launch estimate\s+200\.0k tokens, \$2\.00/);
  });
});
