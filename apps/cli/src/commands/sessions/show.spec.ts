import { useFakeApi } from '../../testing/command-test-env.test-support';
import { RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { aSessionDetail, SESSION_ID } from '../../testing/session-fixtures.test-support';

describe('stratavore sessions show', () => {
  const t = useFakeApi();

  it('shows cost, turns, result, tokens by model and kind, and the transcripts', async () => {
    t.api().expect({
      method: 'GET',
      path: `/api/v1/sessions/${SESSION_ID}`,
      reply: aSessionDetail({
        endedAt: '2026-11-24T10:06:00.000Z',
        result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
        transcripts: [
          {
            kind: 'main',
            agentId: null,
            size: 2048,
            lineCount: 12,
            sha256: 'ab'.repeat(32),
            uploadedAt: '2026-11-24T10:06:01.000Z',
            uploadedBy: RUNNER_ID,
          },
        ],
      }),
    });

    const result = await runCommand(['sessions', 'show', SESSION_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Session\s+4d5611e5/);
    expect(result.stdout).toMatch(/State\s+success/);
    expect(result.stdout).toMatch(/Turns\s+4/);
    expect(result.stdout).toMatch(/Cost\s+\$0\.04 \(Claude Code reported \$0\.04\)/);
    expect(result.stdout).toMatch(/Result\s+success, resumable no/);
    expect(result.stdout).toMatch(
      /MODEL\s+INPUT\s+OUTPUT\s+CACHE WRITE 5M\s+CACHE WRITE 1H\s+CACHE READ\s+WEB SEARCH\s+COST/,
    );
    expect(result.stdout).toMatch(
      /claude-sonnet-4-5\s+1\.2k\s+300\s+400\s+100\s+10\.0k\s+0\s+\$0\.04/,
    );
    expect(result.stdout).toMatch(/TOTAL\s+1\.2k\s+300/);
    expect(result.stdout).toMatch(/main\s+2\.0 KiB\s+12\s+2026-11-24T10:06:01\.000Z\s+abab/);
  });

  it('exits 3 for an unknown session', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/sessions/nope',
      status: 404,
      reply: { statusCode: 404, code: 'SESSION_NOT_FOUND', message: 'session nope not found' },
    });

    const result = await runCommand(['sessions', 'show', 'nope'], { env: t.env() });

    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('session nope not found');
  });
});
