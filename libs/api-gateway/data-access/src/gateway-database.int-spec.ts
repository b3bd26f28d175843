import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type NewApiKey } from './api-key.record';
import { GatewayDatabase } from './gateway-database';

function newKey(n: number, overrides: Partial<NewApiKey> = {}): NewApiKey {
  return {
    id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    name: `key ${n}`,
    prefix: `prefix${n.toString().padStart(2, '0')}`,
    secretHash: 'a'.repeat(63) + (n % 10).toString(),
    scope: 'viewer',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
    ...overrides,
  };
}

describe('GatewayDatabase', () => {
  let testDb: TestDatabase;
  let database: GatewayDatabase;

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_da');
    database = new GatewayDatabase({ url: testDb.url });
    await database.open();
  });

  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  it('migrates up, down and up again', async () => {
    expect(await database.tables()).toEqual(['api_keys', 'migrations']);
    await database.revertLastMigration();
    expect(await database.tables()).toEqual(['migrations']);
    expect(await database.open()).toEqual(['GatewayApiKeys1764300000000']);
    expect(await database.tables()).toEqual(['api_keys', 'migrations']);
    expect(await database.open()).toEqual([]);
  });

  it('stores, finds, lists, touches and revokes keys', async () => {
    const repo = database.apiKeys;
    const stored = await repo.insert(newKey(1, { scope: 'admin' }));
    await repo.insert(newKey(2));
    expect(stored).toMatchObject({ prefix: 'prefix01', scope: 'admin', revokedAt: null });
    expect(await repo.findByPrefix('prefix02')).toMatchObject({ name: 'key 2' });
    expect(await repo.findByPrefix('missing')).toBeNull();

    const usedAt = new Date('2026-02-01T00:00:00.000Z');
    await repo.touchLastUsed(stored.id, usedAt);
    expect((await repo.findById(stored.id))?.lastUsedAt).toEqual(usedAt);

    const revokedAt = new Date('2026-02-02T00:00:00.000Z');
    expect((await repo.revoke(stored.id, revokedAt))?.revokedAt).toEqual(revokedAt);
    // A second revoke keeps the first time.
    expect((await repo.revoke(stored.id, new Date()))?.revokedAt).toEqual(revokedAt);
    expect((await repo.list()).map((k) => k.prefix)).toEqual(['prefix01', 'prefix02']);
  });

  it('refuses a duplicate prefix and an unknown scope', async () => {
    await expect(database.apiKeys.insert(newKey(3, { prefix: 'prefix01' }))).rejects.toThrow(
      /uq_api_keys_prefix/,
    );
    await expect(
      database.apiKeys.insert(newKey(4, { scope: 'root' as unknown as NewApiKey['scope'] })),
    ).rejects.toThrow(/ck_api_keys_scope/);
  });

  it('inserts the bootstrap key only when no key exists, once under concurrency', async () => {
    const fresh = await createTestDatabase('gateway_boot');
    const other = new GatewayDatabase({ url: fresh.url });
    try {
      await other.open();
      const results = await Promise.all(
        [10, 11, 12, 13].map((n) => other.apiKeys.insertIfNoneExist(newKey(n))),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await other.apiKeys.list()).toHaveLength(1);
      expect(await other.apiKeys.insertIfNoneExist(newKey(14))).toBeNull();
    } finally {
      await other.close();
      await fresh.drop();
    }
  });
});
