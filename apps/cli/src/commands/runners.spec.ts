import { useFakeApi } from '../testing/command-test-env.test-support';
import { aRunner, RUNNER_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore runners', () => {
  const t = useFakeApi();

  it('prints a table with state, CPU, memory, tokens and heartbeat age', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/runners?project=web-app&state=running%2Cfailed&limit=100',
      reply: {
        runners: [
          aRunner(),
          aRunner({
            id: '1b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b11',
            state: 'failed',
            exitCode: 2,
            pid: null,
            cpuPercent: null,
            memoryBytes: null,
            lastHeartbeatAt: null,
          }),
        ],
      },
    });

    const result = await runCommand(
      ['runners', '--project', 'web-app', '--state', 'running', '--state', 'failed'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+PROJECT\s+STATE\s+PID\s+CPU\s+MEM\s+TOKENS\s+HEARTBEAT\s+EXIT$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${RUNNER_ID}\\s+web-app\\s+running\\s+4242\\s+12\\.5%\\s+100\\.0 MiB\\s+1\\.5k\\s+\\d+s ago\\s+-$`,
      ),
    );
    expect(lines[2]).toMatch(/failed\s+-\s+-\s+-\s+1\.5k\s+never\s+2$/);
  });

  it('prints the runner objects with --json', async () => {
    const runner = aRunner();
    t.api().expect({
      method: 'GET',
      path: '/api/v1/runners?limit=100',
      reply: { runners: [runner], nextCursor: null },
    });

    const result = await runCommand(['runners', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([runner]);
  });

  it('follows nextCursor until --limit runners, asking for at most 500 a page', async () => {
    const ids = ['20', '21'].map((n) => `1b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b${n}`);
    t.api()
      .expect({
        method: 'GET',
        path: '/api/v1/runners?state=failed&limit=500',
        reply: { runners: [aRunner({ id: ids[0]! })], nextCursor: ids[0]! },
      })
      .expect({
        method: 'GET',
        path: `/api/v1/runners?state=failed&limit=500&cursor=${ids[0]!}`,
        reply: { runners: [aRunner({ id: ids[1]! })], nextCursor: null },
      })
      .expect({
        method: 'GET',
        path: '/api/v1/runners?limit=2',
        reply: { runners: [aRunner({ id: ids[0]! })], nextCursor: ids[0]! },
      })
      .expect({
        method: 'GET',
        path: `/api/v1/runners?limit=1&cursor=${ids[0]!}`,
        reply: { runners: [aRunner({ id: ids[1]! })], nextCursor: ids[1]! },
      });

    const all = await runCommand(['runners', '--state', 'failed', '--limit', '1000', '--json'], {
      env: t.env(),
    });
    const two = await runCommand(['runners', '--limit', '2', '--json'], { env: t.env() });

    expect(all.exitCode).toBe(0);
    expect((JSON.parse(all.stdout) as Array<{ id: string }>).map((r) => r.id)).toEqual(ids);
    expect(two.exitCode).toBe(0);
    expect((JSON.parse(two.stdout) as Array<{ id: string }>).map((r) => r.id)).toEqual(ids);
  });

  it('exits 2 naming --state for an unknown state', async () => {
    const result = await runCommand(['runners', '--state', 'sleeping'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--state');
  });
});
