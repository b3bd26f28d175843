import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { useFakeApi } from '../../testing/command-test-env.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore config set', () => {
  const t = useFakeApi();

  it('writes api-url to the file with mode 0600', async () => {
    const path = join(t.dir(), 'nested', 'config.json');

    const result = await runCommand(['config', 'set', 'api-url', 'http://127.0.0.1:7414'], {
      env: { STRATAVORE_CONFIG: path },
    });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ apiUrl: 'http://127.0.0.1:7414' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('exits 2 for a value that is not a URL or an unknown key', async () => {
    const env = { STRATAVORE_CONFIG: join(t.dir(), 'config.json') };

    const badUrl = await runCommand(['config', 'set', 'api-url', 'not a url'], { env });
    const badKey = await runCommand(['config', 'set', 'colour', 'x'], { env });

    expect(badUrl.exitCode).toBe(2);
    expect(badUrl.stderr).toContain('api-url');
    expect(badKey.exitCode).toBe(2);
  });
});
