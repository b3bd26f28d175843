import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError, PROJECT_ID } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

const status = {
  projects: [
    {
      project: { id: PROJECT_ID, name: 'web-app' },
      maxRunners: 2,
      active: 2,
      byState: { pending: 0, starting: 1, running: 1, waiting: 0, idle: 0, stopping: 0 },
      queued: [],
    },
  ],
};

describe('stratavore status', () => {
  const t = useFakeApi();

  it('prints a table per project with the bearer key', async () => {
    t.api().expect({ method: 'GET', path: '/api/v1/status', reply: status });

    const result = await runCommand(['status'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(
      /PROJECT\s+ACTIVE\s+RUNNING\s+WAITING\s+IDLE\s+PENDING\s+STARTING\s+STOPPING\s+QUEUED/,
    );
    expect(result.stdout).toMatch(/web-app\s+2\/2\s+1\s+0\s+0\s+0\s+1\s+0\s+0/);
    expect(result.stdout).not.toContain('\u001b[');
    expect(t.api().received[0]?.authorization).toBe('Bearer sk-test-key-1234');
  });

  it('prints the status as JSON with --json', async () => {
    t.api().expect({ method: 'GET', path: '/api/v1/status', reply: status });

    const result = await runCommand(['status', '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(status);
  });

  it('colours on a terminal and not with NO_COLOR', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/status', reply: status },
      { method: 'GET', path: '/api/v1/status', reply: status },
    );

    const coloured = await runCommand(['status'], { env: t.env(), tty: true });
    const plain = await runCommand(['status'], { env: { ...t.env(), NO_COLOR: '1' }, tty: true });

    expect(coloured.stdout).toContain('\u001b[1mPROJECT');
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('exits 1 with the server message when the key is refused', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/status',
      status: 401,
      reply: apiError(401, 'UNAUTHORIZED', 'invalid API key'),
    });

    const result = await runCommand(['status'], { env: t.env() });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('invalid API key');
  });

  it('exits 2 when no API URL is configured', async () => {
    const result = await runCommand(['status'], {
      env: { STRATAVORE_CONFIG: `${t.dir()}/absent.json` },
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('No API URL configured');
  });
});
