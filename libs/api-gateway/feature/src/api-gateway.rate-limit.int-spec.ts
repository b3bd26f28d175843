import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type GatewayUnderTest, startGateway } from './api-gateway.test-support';

describe('api-gateway rate limit', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_rate');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 3, windowMs: 60_000 },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  it('counts per API key across routes and answers 429 with Retry-After', async () => {
    const first = (await gateway.keys.create({ name: 'busy', scope: 'admin' })).key;
    const second = (await gateway.keys.create({ name: 'calm', scope: 'admin' })).key;
    const get = (key: string, path: string) =>
      fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

    expect((await get(first, '/api/v1/keys')).status).toBe(200);
    expect((await get(first, '/api/v1/keys')).status).toBe(200);
    expect((await get(first, '/api/v1/keys')).status).toBe(200);
    const limited = await get(first, '/api/v1/events?types=bad..pattern');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });

    // Another key has its own budget.
    expect((await get(second, '/api/v1/keys')).status).toBe(200);
    gateway.runnerManager.assertSatisfied();
  });
});
