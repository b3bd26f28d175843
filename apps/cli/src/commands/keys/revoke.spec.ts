import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { anApiKey, KEY_ID, PLAIN_KEY } from './keys.fixtures.test-support';

const REVOKED_AT = '2026-11-24T12:00:00.000Z';

describe('stratavore keys revoke', () => {
  const t = useFakeApi();

  it('revokes the key by id', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/keys/${KEY_ID}`,
      reply: { apiKey: anApiKey({ revokedAt: REVOKED_AT }) },
    });

    const result = await runCommand(['keys', 'revoke', KEY_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(
      `Revoked the operator API key "ci" (prefix abcd2345) at ${REVOKED_AT}.`,
    );
    expect(result.stderr).toBe('');
  });

  it('prints the revoked key as JSON with --json', async () => {
    const apiKey = anApiKey({ revokedAt: REVOKED_AT });
    t.api().expect({ method: 'DELETE', path: `/api/v1/keys/${KEY_ID}`, reply: { apiKey } });

    const result = await runCommand(['keys', 'revoke', KEY_ID, '--json'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(apiKey);
  });

  it('warns when the revoked key is the one the CLI uses', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/keys/${KEY_ID}`,
      reply: { apiKey: anApiKey({ revokedAt: REVOKED_AT }) },
    });

    const result = await runCommand(['keys', 'revoke', KEY_ID], {
      env: { ...t.env(), STRATAVORE_API_KEY: PLAIN_KEY },
    });

    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('that is the key this CLI uses');
  });

  it('exits 3 for an unknown id, 2 for a malformed or missing one', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/keys/${KEY_ID}`,
      status: 404,
      reply: apiError(404, 'API_KEY_NOT_FOUND', `no API key with id ${KEY_ID}`),
    });

    const unknown = await runCommand(['keys', 'revoke', KEY_ID], { env: t.env() });
    const malformed = await runCommand(['keys', 'revoke', 'abcd2345'], { env: t.env() });
    const missing = await runCommand(['keys', 'revoke'], { env: t.env() });

    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toContain(`no API key with id ${KEY_ID}`);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toContain('ID must be an API key id');
    expect(missing.exitCode).toBe(2);
  });
});
