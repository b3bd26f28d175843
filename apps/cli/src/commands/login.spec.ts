import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { useFakeApi } from '../testing/command-test-env.test-support';
import { apiError } from '../testing/fixtures.test-support';
import { runCommand } from '../testing/run-command.test-support';

describe('stratavore login', () => {
  const t = useFakeApi();

  it('checks the key against /status, then saves url and key with mode 0600', async () => {
    t.api().expect({ method: 'GET', path: '/api/v1/status', reply: { projects: [] } });
    const xdg = t.dir();

    const result = await runCommand(
      ['login', '--api-url', t.api().url, '--api-key', 'sk-new-key-9876'],
      {
        env: { XDG_CONFIG_HOME: xdg },
      },
    );

    expect(result.exitCode).toBe(0);
    const path = join(xdg, 'stratavore', 'config.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      apiUrl: t.api().url,
      apiKey: 'sk-new-key-9876',
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(t.api().received[0]?.authorization).toBe('Bearer sk-new-key-9876');
  });

  it('exits 1 and saves nothing when the key is refused', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/status',
      status: 401,
      reply: apiError(401, 'UNAUTHORIZED', 'bad key'),
    });

    const result = await runCommand(['login', '--api-url', t.api().url, '--api-key', 'nope'], {
      env: { XDG_CONFIG_HOME: t.dir() },
    });

    expect(result.exitCode).toBe(1);
    await expect(stat(join(t.dir(), 'stratavore', 'config.json'))).rejects.toThrow('ENOENT');
  });
});
