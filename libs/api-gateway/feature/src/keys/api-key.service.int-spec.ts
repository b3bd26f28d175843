import { randomBytes } from 'node:crypto';

import { API_KEY_PATTERN } from '@stratavore/api-client';
import { GatewayDatabase } from '@stratavore/api-gateway-data-access';
import { ManualClock, RandomIdGenerator, SequentialIdGenerator } from '@stratavore/core';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { GatewayErrorCode } from '../http/gateway.exception';
import { ApiKeyService } from './api-key.service';
import { VerifiedKeyCache } from './verified-key-cache';

describe('ApiKeyService', () => {
  let testDb: TestDatabase;
  let database: GatewayDatabase;
  let clock: ManualClock;
  let service: ApiKeyService;

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_keys');
    database = new GatewayDatabase({ url: testDb.url });
    await database.open();
    clock = new ManualClock('2026-03-01T00:00:00.000Z');
    service = new ApiKeyService(database, clock, new SequentialIdGenerator(), (n) =>
      randomBytes(n),
    );
  });

  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  it('creates the bootstrap admin key on the first start only', async () => {
    const first = await service.ensureBootstrapAdminKey();
    expect(first?.apiKey).toMatchObject({ scope: 'admin', name: 'bootstrap admin' });
    expect(first?.key).toMatch(API_KEY_PATTERN);
    // The same start asking again gets the same answer (the daemon asks after the module).
    expect(await service.ensureBootstrapAdminKey()).toEqual(first);
    const laterStart = () =>
      new ApiKeyService(database, clock, new RandomIdGenerator(), (n) => randomBytes(n));
    expect(await laterStart().ensureBootstrapAdminKey()).toBeNull();
    // Even once every key is revoked: the first start is over.
    await service.revoke(first!.apiKey.id);
    expect(await laterStart().ensureBootstrapAdminKey()).toBeNull();
  });

  it('creates a key whose plaintext appears only in the answer and verifies it', async () => {
    const created = await service.create({ name: 'ci', scope: 'operator' });
    expect(created.key).toMatch(new RegExp(`^sv_${created.apiKey.prefix}_`));
    const listed = await service.list();
    expect(JSON.stringify(listed)).not.toContain(created.key.split('_').slice(2).join('_'));
    expect(listed.find((k) => k.id === created.apiKey.id)?.lastUsedAt).toBeNull();

    const verified = await service.verify(created.key);
    expect(verified).toEqual({
      ok: true,
      principal: {
        id: created.apiKey.id,
        name: 'ci',
        prefix: created.apiKey.prefix,
        scope: 'operator',
      },
    });
    expect((await service.list()).find((k) => k.id === created.apiKey.id)?.lastUsedAt).toBe(
      '2026-03-01T00:00:00.000Z',
    );
  });

  it('refuses malformed, unknown and tampered keys, and revoked ones', async () => {
    const created = await service.create({ name: 'temp', scope: 'viewer' });
    expect(await service.verify('not-a-key')).toEqual({ ok: false, reason: 'malformed' });
    const tampered = created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A');
    expect(await service.verify(tampered)).toEqual({ ok: false, reason: 'unknown' });
    const otherPrefix = `sv_aaaaaaaa_${created.key.split('_').slice(2).join('_')}`;
    expect(await service.verify(otherPrefix)).toEqual({ ok: false, reason: 'unknown' });

    clock.advance(1000);
    const revoked = await service.revoke(created.apiKey.id);
    expect(revoked.revokedAt).toBe(clock.now().toISOString());
    expect(await service.verify(created.key)).toEqual({ ok: false, reason: 'revoked' });
  });

  describe('with a verified-key cache', () => {
    /** Two gateway replicas on one database, each with its own cache; lookups counted. */
    function replica() {
      const counter = { lookups: 0 };
      const apiKeys = Object.assign(Object.create(database.apiKeys) as typeof database.apiKeys, {
        findByPrefix: (prefix: string) => {
          counter.lookups++;
          return database.apiKeys.findByPrefix(prefix);
        },
      });
      const cache = new VerifiedKeyCache({ ttlMs: 10_000, maxEntries: 100 }, clock);
      const keys = new ApiKeyService(
        { apiKeys },
        clock,
        new RandomIdGenerator(),
        (n) => randomBytes(n),
        cache,
      );
      return { keys, counter };
    }

    it('answers a key verified within the TTL without a database lookup', async () => {
      const a = replica();
      const created = await a.keys.create({ name: 'cached', scope: 'operator' });
      const first = await a.keys.verify(created.key);
      expect(first).toMatchObject({ ok: true, principal: { id: created.apiKey.id } });
      expect(a.counter.lookups).toBe(1);
      expect(await a.keys.verify(created.key)).toEqual(first);
      expect(a.counter.lookups).toBe(1);
      clock.advance(10_000);
      expect(await a.keys.verify(created.key)).toEqual(first);
      expect(a.counter.lookups).toBe(2);
    });

    it('never remembers a wrong key', async () => {
      const a = replica();
      const created = await a.keys.create({ name: 'wrong', scope: 'viewer' });
      const tampered = created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A');
      for (let i = 0; i < 2; i++) {
        expect(await a.keys.verify(tampered)).toEqual({ ok: false, reason: 'unknown' });
      }
      expect(a.counter.lookups).toBe(2);
    });

    it('refuses a key revoked here at once, and on another replica within the TTL', async () => {
      const a = replica();
      const b = replica();
      const created = await a.keys.create({ name: 'revoked later', scope: 'viewer' });
      expect((await a.keys.verify(created.key)).ok).toBe(true);
      expect((await b.keys.verify(created.key)).ok).toBe(true);

      clock.advance(1_000);
      await a.keys.revoke(created.apiKey.id);
      expect(await a.keys.verify(created.key)).toEqual({ ok: false, reason: 'revoked' });
      // The other replica trusts its entry until the TTL ends, then asks the database.
      expect((await b.keys.verify(created.key)).ok).toBe(true);
      clock.advance(9_000);
      expect(await b.keys.verify(created.key)).toEqual({ ok: false, reason: 'revoked' });
      expect(b.counter.lookups).toBe(2);
    });
  });

  it('reports an unknown key id on revoke', async () => {
    await expect(service.revoke('00000000-0000-4000-8000-0000000fffff')).rejects.toMatchObject({
      code: GatewayErrorCode.ApiKeyNotFound,
    });
  });
});
