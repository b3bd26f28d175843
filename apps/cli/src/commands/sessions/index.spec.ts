import { useFakeApi } from '../../testing/command-test-env.test-support';
import { PROJECT_ID, RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { aSession, SESSION_ID } from '../../testing/session-fixtures.test-support';

describe('stratavore sessions', () => {
  const t = useFakeApi();

  it('prints a table with project, runner, state, turns, tokens, cost and last activity', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/sessions?project=web-app&limit=10',
      reply: {
        sessions: [
          aSession(),
          aSession({
            id: 'sess-2',
            endedAt: '2026-11-24T10:06:00.000Z',
            result: { subtype: 'error_max_turns', isError: true, resumable: true, resumeAt: null },
            costUsd: null,
          }),
        ],
      },
    });

    const result = await runCommand(['sessions', '--project', 'web-app', '--limit', '10'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^SESSION\s+PROJECT\s+RUNNER\s+STATE\s+TURNS\s+TOKENS\s+COST\s+LAST SEEN$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${SESSION_ID}\\s+web-app\\s+${RUNNER_ID}\\s+running\\s+4\\s+12\\.0k\\s+\\$0\\.04\\s+\\S+ ago$`,
      ),
    );
    expect(lines[2]).toMatch(/^sess-2\s+web-app\s+\S+\s+error_max_turns\s+4\s+12\.0k\s+-\s/);
  });

  it('prints objects with id, runnerId, project, turns, costUsd and tokens with --json', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/sessions',
      reply: { sessions: [aSession()] },
    });

    const result = await runCommand(['sessions', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const [session] = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(session).toMatchObject({
      id: SESSION_ID,
      runnerId: RUNNER_ID,
      project: 'web-app',
      projectId: PROJECT_ID,
      turns: 4,
      costUsd: 0.0421,
      tokens: { input: 1200, output: 300, cacheCreation: 500, cacheRead: 10_000 },
    });
  });

  it('turns --since into an instant, and exits 2 naming --since when it cannot', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/sessions?since=2026-03-01T00%3A00%3A00.000Z',
      reply: { sessions: [] },
    });

    const ok = await runCommand(['sessions', '--since', '2026-03-01'], { env: t.env() });
    const bad = await runCommand(['sessions', '--since', 'last tuesday'], { env: t.env() });

    expect(ok.stdout).toContain('No sessions match.');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--since');
  });
});
