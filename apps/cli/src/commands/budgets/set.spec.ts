import { type BudgetView } from '@stratavore/contracts';

import { aBudget, aGlobalBudget } from '../../testing/budget-fixtures.test-support';
import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore budgets set', () => {
  const t = useFakeApi();

  const sent = () => t.api().received.find((r) => r.method === 'PUT')?.body;

  /** The API has no global budget yet and creates `budget` on the PUT. */
  const expectCreated = (budget: BudgetView) => {
    const put = { created: true, rebaselined: false, budget };
    t.api().expect(
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
      { method: 'PUT', path: '/api/v1/budgets', reply: put },
    );
  };

  /** Runs `budgets set` with the flags of `line` (split at spaces), then `more` as they are. */
  const budgetsSet = (line: string, ...more: string[]) =>
    runCommand(['budgets', 'set', ...line.split(' '), ...more], { env: t.env() });

  it('creates a global budget from the flags', async () => {
    expectCreated(aGlobalBudget({ status: 'ok', limits: { tokens: 5_000_000, usd: null } }));

    const result = await budgetsSet(
      '--global --tokens 5M --period daily --tz Europe/Berlin --warn 50,90 --enforce soft --kinds input,output',
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

  it('sends --period-start as the anchor: a date or local date-time by its wall clock, an offset as startsAt', async () => {
    const cases: Array<{ start: string; anchor: unknown }> = [
      // Wednesday 4 March, 09:30 in the budget's zone.
      {
        start: '2026-03-04T09:30',
        anchor: { weekStartsOn: 3, monthDay: 4, timeOfDay: '09:30' },
      },
      // A Sunday; a date alone starts at midnight.
      { start: '2026-03-01', anchor: { weekStartsOn: 7, monthDay: 1, timeOfDay: '00:00' } },
      {
        start: '2026-01-31 18:05:59',
        anchor: { weekStartsOn: 6, monthDay: 31, timeOfDay: '18:05' },
      },
      // An instant: budget-service reads it in the budget's zone; seconds added for the contract.
      { start: '2026-03-02T09:00+01:00', anchor: { startsAt: '2026-03-02T09:00:00+01:00' } },
      { start: '2026-03-02t08:00:30.5z', anchor: { startsAt: '2026-03-02T08:00:30.5Z' } },
    ];
    for (const { start, anchor } of cases) {
      expectCreated(aGlobalBudget());
      const result = await budgetsSet(
        '--global --tokens 5M --period weekly --tz Europe/Berlin --period-start',
        start,
      );
      expect([start, result.exitCode, result.stderr]).toEqual([start, 0, '']);
      const body = t
        .api()
        .received.filter((r) => r.method === 'PUT')
        .at(-1)?.body;
      expect([start, body]).toEqual([
        start,
        expect.objectContaining({ timeZone: 'Europe/Berlin', periodAnchor: anchor }) as unknown,
      ]);
    }
  });

  it('replaces the anchor of an existing budget with --period-start and keeps the rest', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/budgets?project=web-app',
        reply: { budgets: [aBudget({ period: 'monthly', timeZone: 'Asia/Tokyo' })] },
      },
      {
        method: 'PUT',
        path: '/api/v1/budgets',
        reply: { created: false, rebaselined: true, budget: aBudget() },
      },
    );

    const result = await runCommand(
      ['budgets', 'set', '--project', 'web-app', '--period-start', '2026-03-15'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(sent()).toMatchObject({
      period: 'monthly',
      timeZone: 'Asia/Tokyo',
      limitTokens: 1_000_000,
      periodAnchor: { weekStartsOn: 7, monthDay: 15, timeOfDay: '00:00' },
    });
    expect(result.stdout).toContain('a new period started now');
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
    for (const start of [
      'tomorrow',
      '2026-02-30',
      '2026-3-2',
      '2026-03-02T24:00',
      '2026-03-02T09:60',
      '2026-03-02T09',
      '2026-03-02T09:00+25:00',
      '2026-03-02Z',
    ]) {
      cases.push({
        argv: ['--global', '--period-start', start],
        message: `expected a date (2026-03-02) or a date-time in the budget's --tz (2026-03-02T09:00) or with an offset (2026-03-02T09:00+01:00), got "${start}"`,
      });
    }
    for (const { argv, message } of cases) {
      const result = await runCommand(['budgets', 'set', ...argv], { env: t.env() });
      expect([argv.join(' '), result.exitCode]).toEqual([argv.join(' '), 2]);
      expect(result.stderr).toContain(message);
    }
    // oclif names the flag whose value it could not parse.
    const badStart = await runCommand(['budgets', 'set', '--global', '--period-start', 'soon'], {
      env: t.env(),
    });
    expect(badStart.stderr).toMatch(/Parsing --period-start\s/);
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
