import { useFakeApi } from '../testing/command-test-env.test-support';
import { runCommand } from '../testing/run-command.test-support';
import { aUsage, someTokens } from '../testing/session-fixtures.test-support';

describe('stratavore usage', () => {
  const t = useFakeApi();

  it('prints tokens by kind and cost per project with a total, by default', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/usage?by=project', reply: aUsage() },
      { method: 'GET', path: '/api/v1/budgets', reply: { budgets: [] } },
    );

    const result = await runCommand(['usage'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Usage from 2026-11-01 to 2026-11-30 (UTC)');
    expect(lines[2]).toMatch(
      /^PROJECT\s+INPUT\s+OUTPUT\s+CACHE WRITE 5M\s+CACHE WRITE 1H\s+CACHE READ/,
    );
    expect(lines[3]).toMatch(/^web-app\s+1\.2k\s+300\s+400\s+100\s+10\.0k\s+0\s+\$1\.25$/);
    expect(lines[4]).toMatch(/^TOTAL\s+1\.2k/);
  });

  it('groups by model over days given with --since and --until, and prints JSON', async () => {
    const reply = aUsage({
      by: 'model',
      from: '2026-03-01',
      to: '2026-03-31',
      rows: [{ key: 'claude-sonnet-4-5', name: null, tokens: someTokens(), costUsd: 1 }],
    });
    t.api().expect({
      method: 'GET',
      path: '/api/v1/usage?by=model&from=2026-03-01&to=2026-03-31&project=web-app',
      reply,
    });

    const result = await runCommand(
      [
        'usage',
        '--by',
        'model',
        '--since',
        '2026-03-01',
        '--until',
        '2026-03-31',
        '--project',
        'web-app',
        '--json',
      ],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(reply);
  });

  it('exits 2 naming the flag for an unknown grouping or day', async () => {
    const by = await runCommand(['usage', '--by', 'week'], { env: t.env() });
    const since = await runCommand(['usage', '--since', 'whenever'], { env: t.env() });

    expect([by.exitCode, since.exitCode]).toEqual([2, 2]);
    expect(by.stderr).toContain('--by');
    expect(since.stderr).toContain('--since');
  });
});
