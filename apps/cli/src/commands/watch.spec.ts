import { useFakeApi } from '../testing/command-test-env.test-support';
import { aRunner } from '../testing/fixtures.test-support';
import { runCommand, startCommand, waitFor } from '../testing/run-command.test-support';

describe('stratavore watch', () => {
  const t = useFakeApi();

  it('--once prints one frame and exits', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/runners?project=web-app&limit=100',
      reply: { runners: [aRunner()] },
    });

    const result = await runCommand(['watch', '--once', '--project', 'web-app'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('stratavore watch  ·  1 runner');
    expect(result.stdout).toMatch(/running\s+4242\s+12\.5%\s+100\.0 MiB\s+1\.5k\s+\d+s ago/);
  });

  it('--once --json prints the runner objects', async () => {
    const runner = aRunner();
    t.api().expect({
      method: 'GET',
      path: '/api/v1/runners?limit=100',
      reply: { runners: [runner] },
    });

    const result = await runCommand(['watch', '--once', '--json'], { env: t.env() });

    expect(JSON.parse(result.stdout)).toEqual([runner]);
  });

  it('redraws in place on a runner event and exits cleanly on Ctrl-C', async () => {
    t.api().expect(
      {
        method: 'GET',
        path: '/api/v1/runners?limit=100',
        reply: { runners: [aRunner({ state: 'starting' })] },
      },
      {
        method: 'GET',
        path: '/api/v1/events',
        events: [{ type: 'runner.running', id: '1', data: { type: 'runner.running' } }],
      },
      {
        method: 'GET',
        path: '/api/v1/runners?limit=100',
        reply: { runners: [aRunner({ state: 'running' })] },
      },
    );

    const running = startCommand(['watch', '--interval', '3600'], {
      env: { ...t.env(), NO_COLOR: '1' },
      tty: true,
    });
    await waitFor(() => /running\s+4242/.test(running.output()), 'the redrawn frame');
    process.emit('SIGINT');
    const result = await running.result;

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/starting\s+4242/);
    expect(result.stdout).toMatch(/\u001b\[\d+F\u001b\[J/); // cursor up and clear: in place
    expect(result.stdout).toContain('events: live');
    expect(result.stdout.endsWith('\u001b[?25h')).toBe(true); // cursor shown again
  });

  it('exits 2 for --json without --once', async () => {
    const result = await runCommand(['watch', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain('--json needs --once');
  });
});
