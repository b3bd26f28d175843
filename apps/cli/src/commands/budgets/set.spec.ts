import { aBudget, aGlobalBudget } from '../../testing/budget-fixtures.test-support';
import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore budgets set', () => {
  const t = useFakeApi();

  const sent = () => t.api().received.find((r) => r.method === 'PUT')?.body;

  it('creates a global budget from the flags', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
      {
        method: 'PUT',
        path: '/api/v1/budgets',
        reply: {
          created: true,
          rebaselined: false,
          budget: aGlobalBudget({ status: 'ok', limits: { tokens: 5_000_000, usd: null } }),
        },
      },
    );

    const result = await runCommand(
      [
        'budgets',
        'set',
        '--global',
        '--tokens',
        '5M',
        '--period',
        'daily',
        '--tz',
        'Europe/Berlin',
        '--warn',
        '50,90',
        '--enforce',
        'soft',
        '--kinds',
        'input,output',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(sent()).toEqual({
      scope: { kind: 'global' },
      limitTokens: 5_000_000,
      tokenKinds: ['input', 'output'],
      period: 'daily',
      timeZone: 'Europe/Berlin',
      warnThresholds: [0.5, 0.9],
      rollover: { enabled: false },
      enforcement: 'soft',
    });
    expect(result.stdout).toContain('Created the global budget.');
    expect(result.stdout).toMatch(/SCOPE\s+PERIOD\s+LIMIT/);
  });

  it('changes only the flags given on an existing project budget', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/budgets?project=web-app',
        reply: { budgets: [aGlobalBudget(), aBudget()] },
      },
      {
        method: 'PUT',
        path: '/api/v1/budgets',
        reply: { created: false, rebaselined: false, budget: aBudget() },
      },
    );

    const result = await runCommand(
      ['budgets', 'set', '--project', 'web-app', '--usd', '25', '--rollover', '--cap', '500k'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(sent()).toEqual({
      scope: { kind: 'project', project: 'web-app' },
      limitTokens: 1_000_000,
      limitUsd: 25,
      tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
      period: 'daily',
      timeZone: 'UTC',
      periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
      warnThresholds: [0.5, 0.8, 0.95],
      rollover: { enabled: true, capTokens: 500_000 },
      enforcement: 'hard',
    });
    expect(result.stdout).toContain('Updated the project web-app budget.');
  });

  it('removes a limit with none and says when the period was re-baselined', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/budgets?project=web-app',
        reply: { budgets: [aBudget({ limits: { tokens: 1_000_000, usd: 10 } })] },
      },
      {
        method: 'PUT',
        path: '/api/v1/budgets',
        reply: { created: false, rebaselined: true, budget: aBudget() },
      },
    );

    const result = await runCommand(
      ['budgets', 'set', '--project', 'web-app', '--usd', 'none', '--period', 'weekly', '--json'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(sent()).toMatchObject({ limitTokens: 1_000_000, period: 'weekly' });
    expect(sent()).not.toHaveProperty('limitUsd');
    expect(JSON.parse(result.stdout)).toMatchObject({ created: false, rebaselined: true });
  });

  it('exits 2 naming what is missing or malformed, before asking the API', async () => {
    const cases: Array<{ argv: string[]; message: string }> = [
      { argv: ['--tokens', '5M', '--period', 'daily'], message: '--global or --project NAME' },
      { argv: ['--global', '--tokens', '2.5'], message: 'expected a whole number of tokens' },
      { argv: ['--global', '--usd', 'ten'], message: 'expected an amount in USD' },
      { argv: ['--global', '--warn', '50,120'], message: 'expected percentages of the limit' },
      { argv: ['--global', '--period', 'hourly'], message: '--period' },
      { argv: ['--global', '--kinds', 'input,cache'], message: 'expected token kinds' },
      { argv: ['--global', '--project', 'x'], message: '--project' },
    ];
    for (const { argv, message } of cases) {
      const result = await runCommand(['budgets', 'set', ...argv], { env: t.env() });
      expect([argv.join(' '), result.exitCode]).toEqual([argv.join(' '), 2]);
      expect(result.stderr).toContain(message);
    }
  });

  it('exits 2 for a new budget without --period or a limit, and for --cap without --rollover', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [aGlobalBudget()] } },
    );

    const noPeriod = await runCommand(['budgets', 'set', '--global', '--tokens', '5M'], {
      env: t.env(),
    });
    const noLimit = await runCommand(['budgets', 'set', '--global', '--period', 'daily'], {
      env: t.env(),
    });
    const cap = await runCommand(['budgets', 'set', '--global', '--cap', '100'], {
      env: t.env(),
    });

    expect(noPeriod.exitCode).toBe(2);
    expect(noPeriod.stderr).toContain('A new budget needs --period');
    expect(noLimit.exitCode).toBe(2);
    expect(noLimit.stderr).toContain('A budget needs a limit');
    expect(cap.exitCode).toBe(2);
    expect(cap.stderr).toContain('--cap and --cap-usd need --rollover');
  });

  it("exits 2 with the server's field errors, 3 for an unknown project", async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
      {
        method: 'PUT',
        path: '/api/v1/budgets',
        status: 400,
        reply: {
          ...apiError(
            400,
            'VALIDATION_FAILED',
            'invalid request: timeZone: expected an IANA time zone',
          ),
          errors: [{ field: 'timeZone', message: 'expected an IANA time zone such as UTC' }],
        },
      },
      {
        method: 'GET',
        path: '/api/v1/budgets?project=nope',
        status: 404,
        reply: apiError(404, 'PROJECT_NOT_FOUND', 'project nope not found'),
      },
    );

    const badZone = await runCommand(
      ['budgets', 'set', '--global', '--tokens', '1000', '--period', 'none', '--tz', 'Mars/Base'],
      { env: t.env() },
    );
    const unknown = await runCommand(['budgets', 'set', '--project', 'nope', '--tokens', '5'], {
      env: t.env(),
    });

    expect(badZone.exitCode).toBe(2);
    expect(badZone.stderr).toContain('timeZone: expected an IANA time zone such as UTC');
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toContain('project nope not found');
  });
});
