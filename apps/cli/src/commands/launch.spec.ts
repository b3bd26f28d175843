import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, aRunner, PROJECT_ID, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore launch', () => {
  const t = useFakeApi();

  it('launches with prompt and command after -- and prints the runner table', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: { prompt: 'fix it', command: ['claude', '--model', 'opus'], queue: false },
      status: 201,
      reply: { status: 'launched', runner: aRunner({ state: 'pending', pid: null }) },
    });

    const result = await runCommand(
      ['launch', 'web-app', '--prompt', 'fix it', '--', 'claude', '--model', 'opus'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/ID\s+PROJECT\s+STATE/);
    expect(result.stdout).toContain(`${RUNNER_ID}  web-app  pending`);
  });

  it('prints the runner object with --json', async () => {
    const runner = aRunner();
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      status: 201,
      reply: { status: 'launched', runner },
    });

    const result = await runCommand(['launch', 'web-app', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      id: runner.id,
      project: { name: 'web-app' },
      state: 'running',
      pid: 4242,
      lastHeartbeatAt: runner.lastHeartbeatAt,
      exitCode: null,
    });
  });

  it('reports a queued launch (202)', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: { queue: true },
      status: 202,
      reply: {
        status: 'queued',
        queuedLaunch: {
          id: RUNNER_ID,
          project: { id: PROJECT_ID, name: 'web-app' },
          position: 3,
          mode: 'headless',
          command: ['claude'],
          prompt: null,
          createdAt: '2026-11-24T10:00:00.000Z',
        },
      },
    });

    const result = await runCommand(['launch', 'web-app', '--queue'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('queued at position 3');
  });

  it('exits 4 with the server message when the quota refuses', async () => {
    const message =
      'project web-app allows 2 concurrent runners; held by r1 (running), r2 (starting)';
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      status: 429,
      reply: apiError(429, 'QUOTA_EXCEEDED', message),
    });

    const result = await runCommand(['launch', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(message);
  });

  it('exits 4 with --json too, printing the error as JSON', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      status: 429,
      reply: apiError(429, 'QUOTA_EXCEEDED', 'project web-app is full'),
    });

    const result = await runCommand(['launch', 'web-app', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(4);
    const printed = JSON.parse(result.stdout) as { error: { message: string; code: string } };
    expect(printed.error.code).toBe('QUOTA_EXCEEDED');
    expect(printed.error.message).toContain('project web-app is full');
  });

  it('exits 3 when the project does not exist', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/nope/runners',
      status: 404,
      reply: apiError(404, 'PROJECT_NOT_FOUND', 'no project nope'),
    });

    const result = await runCommand(['launch', 'nope'], { env: t.env() });

    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('no project nope');
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const result = await runCommand(['launch', 'web-app', '--prompr', 'x'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--prompr');
  });

  it('exits 2 on a stray argument before --', async () => {
    const result = await runCommand(['launch', 'web-app', 'claude'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Unexpected argument claude');
  });
});

describe('stratavore launch with budgets', () => {
  const t = useFakeApi();

  it('sends the estimate flags', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      body: { queue: false, estimateTokens: 200_000, estimateUsd: 2.5 },
      status: 201,
      reply: { status: 'launched', runner: aRunner() },
    });

    const result = await runCommand(
      ['launch', 'web-app', '--estimate-tokens', '200k', '--estimate-usd', '2.50'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
  });

  it('exits 5 with the full budget message on stderr when a budget refuses', async () => {
    const message =
      'budget of project web-app (daily, tokens) is exhausted: limit 1000000, used 990000, reserved 8000, left 2000, requested 50000; the period ends at 2026-11-25T00:00:00.000Z';
    t.api().expect({
      method: 'POST',
      path: '/api/v1/projects/web-app/runners',
      status: 402,
      reply: { ...apiError(402, 'BUDGET_EXCEEDED', message), details: { refusals: [] } },
    });

    const result = await runCommand(['launch', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(5);
    expect(result.stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')).toContain(message);
  });

  it('exits 2 on an estimate that is not an amount', async () => {
    const result = await runCommand(['launch', 'web-app', '--estimate-tokens', 'lots'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--estimate-tokens');
  });
});
