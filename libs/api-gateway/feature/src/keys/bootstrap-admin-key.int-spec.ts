import { Logger } from '@nestjs/common';
import { generateApiKey } from '@stratavore/api-client';
import { GatewayDatabase } from '@stratavore/api-gateway-data-access';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type GatewayUnderTest, startGateway } from '../api-gateway.test-support';

/** `API_BOOTSTRAP_KEY` on gateways sharing one fresh `gateway` schema. */
describe('API_BOOTSTRAP_KEY', () => {
  let testDb: TestDatabase;
  let database: GatewayDatabase;
  const gateways: GatewayUnderTest[] = [];
  let logged: string[];

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_bootstrap_key');
    // Migrated once up front: the test is about the key, not about concurrent migrations.
    database = new GatewayDatabase({ url: testDb.url });
    await database.open();
  });

  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await database.close();
    await testDb.drop();
  });

  async function start(bootstrapKey: string): Promise<GatewayUnderTest> {
    const gateway = await startGateway({ databaseUrl: testDb.url, bootstrapKey });
    gateways.push(gateway);
    return gateway;
  }

  function listKeys(gateway: GatewayUnderTest, key: string): Promise<Response> {
    return fetch(`${gateway.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
  }

  const bootstrapLogs = () => logged.filter((line) => line.includes('API_BOOTSTRAP_KEY'));

  it('is stored once as the admin key when two gateways start at once on an empty schema', async () => {
    const { key, prefix } = generateApiKey();

    const [a, b] = await Promise.all([start(key), start(key)]);

    const stored = await database.apiKeys.list();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ name: 'bootstrap admin', scope: 'admin', prefix });
    expect(stored[0]!.secretHash).not.toContain(key.slice(12));
    expect(bootstrapLogs().sort()).toEqual([
      'API_BOOTSTRAP_KEY ignored: the gateway already has API keys',
      `API_BOOTSTRAP_KEY stored as the admin key "bootstrap admin" (id ${stored[0]!.id})`,
    ]);
    expect(logged.join('\n')).not.toContain(key.slice(12));

    // The key works for an admin route on both replicas.
    for (const gateway of [a, b]) {
      const response = await listKeys(gateway, key);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { keys: Array<{ id: string }> };
      expect(body.keys.map((k) => k.id)).toEqual([stored[0]!.id]);
    }
    // The daemon asks its gateway for the first start's key after the module stored it.
    const outcomes = await Promise.all([
      a.keys.ensureBootstrapAdminKey(),
      b.keys.ensureBootstrapAdminKey(),
    ]);
    const created = outcomes.filter((outcome) => outcome !== null);
    expect(created.map((outcome) => [outcome.key, outcome.apiKey.id])).toEqual([
      [key, stored[0]!.id],
    ]);
  });

  it('is ignored, with one log line that does not show it, when keys exist', async () => {
    const before = await database.apiKeys.list();
    expect(before.length).toBeGreaterThan(0);
    const { key } = generateApiKey();

    const gateway = await start(key);

    expect(await database.apiKeys.list()).toEqual(before);
    expect(bootstrapLogs()).toEqual([
      'API_BOOTSTRAP_KEY ignored: the gateway already has API keys',
    ]);
    expect(logged.join('\n')).not.toContain(key.slice(12));
    const response = await listKeys(gateway, key);
    expect(response.status).toBe(401);
  });
});
