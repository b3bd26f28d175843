import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { anApiKey, KEY_ID } from './keys.fixtures.test-support';

const ADMIN_ID = '0f0e0d0c-0b0a-4909-8807-060504030201';

describe('stratavore keys', () => {
  const t = useFakeApi();

  it('lists keys: id, name, prefix, scope, created, last used, revoked', async () => {
    const now = Date.now();
    t.api().expect({
      method: 'GET',
      path: '/api/v1/keys',
      reply: {
        keys: [
          anApiKey({
            id: ADMIN_ID,
            name: 'bootstrap admin',
            prefix: 'zz77aa22',
            scope: 'admin',
            lastUsedAt: new Date(now - 4 * 60_000).toISOString(),
          }),
          anApiKey({ revokedAt: new Date(now - 3 * 3_600_000).toISOString() }),
        ],
      },
    });

    const result = await runCommand(['keys'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+SCOPE\s+CREATED\s+LAST USED\s+REVOKED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${ADMIN_ID}\\s+bootstrap admin\\s+zz77aa22\\s+admin\\s+2d ago\\s+4m ago\\s+-$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${KEY_ID}\\s+ci\\s+abcd2345\\s+operator\\s+2d ago\\s+never\\s+3h ago$`),
    );
    expect(result.stdout).not.toContain('\u001b[');
    expect(t.api().received[0]?.authorization).toBe('Bearer sk-test-key-1234');
  });

  it('prints the keys as JSON with --json, and says so when there are none', async () => {
    const key = anApiKey();
    t.api().expect(
      { method: 'GET', path: '/api/v1/keys', reply: { keys: [key] } },
      { method: 'GET', path: '/api/v1/keys', reply: { keys: [] } },
    );

    const json = await runCommand(['keys', '--json'], { env: t.env() });
    const none = await runCommand(['keys'], { env: t.env() });

    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([key]);
    expect(none.stdout.trim()).toBe('No API keys.');
  });

  it('colours revoked keys on a terminal, never with NO_COLOR', async () => {
    const revoked = anApiKey({ revokedAt: new Date().toISOString() });
    t.api().expect(
      { method: 'GET', path: '/api/v1/keys', reply: { keys: [revoked] } },
      { method: 'GET', path: '/api/v1/keys', reply: { keys: [revoked] } },
    );

    const coloured = await runCommand(['keys'], { env: t.env(), tty: true });
    const plain = await runCommand(['keys'], { env: { ...t.env(), NO_COLOR: '1' }, tty: true });

    expect(coloured.stdout).toContain('\u001b[2m');
    expect(plain.stdout).not.toContain('\u001b[');
  });

  it('exits 1 with the reason when the key is not an admin key', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/keys',
      status: 403,
      reply: apiError(
        403,
        'FORBIDDEN',
        'this request needs the admin scope; key abcd2345 is operator',
      ),
    });

    const result = await runCommand(['keys'], { env: t.env() });

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('needs the admin scope');
  });
});
