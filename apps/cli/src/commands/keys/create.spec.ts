import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';
import { anApiKey, KEY_ID, PLAIN_KEY } from './keys.fixtures.test-support';

describe('stratavore keys create', () => {
  const t = useFakeApi();

  it('creates a key and prints it once, saying it will not be shown again', async () => {
    const apiKey = anApiKey({ name: 'ci runner' });
    t.api().expect({
      method: 'POST',
      path: '/api/v1/keys',
      body: { name: 'ci runner', scope: 'operator' },
      status: 201,
      reply: { key: PLAIN_KEY, apiKey },
    });

    const result = await runCommand(
      ['keys', 'create', '--name', '  ci runner ', '--scope', 'operator'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      `Created the operator API key "ci runner" (id ${KEY_ID}, prefix abcd2345):`,
    );
    expect(result.stdout).toContain(`\n  ${PLAIN_KEY}\n`);
    expect(result.stdout).toContain('it will not be shown again');
  });

  it('prints the key and its record as JSON with --json', async () => {
    const reply = { key: PLAIN_KEY, apiKey: anApiKey({ name: 'grafana', scope: 'viewer' }) };
    t.api().expect({
      method: 'POST',
      path: '/api/v1/keys',
      body: { name: 'grafana', scope: 'viewer' },
      status: 201,
      reply,
    });

    const result = await runCommand(
      ['keys', 'create', '--name', 'grafana', '--scope', 'viewer', '--json'],
      { env: t.env() },
    );

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(reply);
  });

  it.each([
    [['--scope', 'admin'], '--name'],
    [['--name', 'ci'], '--scope'],
    [['--name', 'ci', '--scope', 'root'], '--scope'],
    [['--name', '   ', '--scope', 'admin'], '--name must not be empty'],
    [['--name', 'x'.repeat(201), '--scope', 'admin'], '--name must be at most 200 characters'],
  ])('exits 2 naming the flag for %j', async (flags, named) => {
    const result = await runCommand(['keys', 'create', ...flags], { env: t.env() });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(named);
    expect(t.api().received).toEqual([]);
  });

  it('exits 2 with the field the server refused', async () => {
    t.api().expect({
      method: 'POST',
      path: '/api/v1/keys',
      status: 400,
      reply: {
        ...apiError(400, 'VALIDATION_FAILED', 'invalid request body'),
        errors: [{ field: 'name', message: 'expected a name' }],
      },
    });

    const result = await runCommand(['keys', 'create', '--name', 'ci', '--scope', 'admin'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('name: expected a name');
  });
});
