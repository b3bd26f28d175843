import { API_KEY_PATTERN } from '@stratavore/api-client';

import { runCommand } from '../../testing/run-command.test-support';

describe('stratavore keys generate', () => {
  it('prints a fresh key in the gateway format, and only the key, with no server configured', async () => {
    const first = await runCommand(['keys', 'generate']);
    const second = await runCommand(['keys', 'generate']);

    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/^sv_[a-z2-7]{8}_[A-Za-z0-9_-]{43}\n$/);
    expect(first.stdout.trim()).toMatch(API_KEY_PATTERN);
    expect(second.stdout).not.toBe(first.stdout);
    expect(first.stderr).toBe('');
  });

  it('prints the key and its prefix as JSON with --json', async () => {
    const result = await runCommand(['keys', 'generate', '--json']);

    const generated = JSON.parse(result.stdout) as { key: string; prefix: string };
    expect(generated.key).toMatch(API_KEY_PATTERN);
    expect(generated.key.startsWith(`sv_${generated.prefix}_`)).toBe(true);
  });
});
