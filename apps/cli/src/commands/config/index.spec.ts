import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { useFakeApi } from '../../testing/command-test-env.test-support';
import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore config', () => {
  const t = useFakeApi();

  it('shows the settings with the key masked and env overriding the file', async () => {
    const path = join(t.dir(), 'config.json');
    await writeFile(
      path,
      JSON.stringify({ apiUrl: 'http://file:1', apiKey: 'sk-file-secret-1234' }),
    );

    const result = await runCommand(['config', '--json'], {
      env: { STRATAVORE_CONFIG: path, STRATAVORE_API_URL: 'http://env:2' },
    });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      path,
      apiUrl: 'http://env:2',
      apiKey: 'sk-f…1234',
      sources: { apiUrl: 'env', apiKey: 'file' },
    });
    expect(result.stdout).not.toContain('secret');
  });
});
