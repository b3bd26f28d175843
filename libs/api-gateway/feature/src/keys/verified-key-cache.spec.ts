import { ManualClock } from '@stratavore/core';

import { type ApiKeyPrincipal } from './api-key.principal';
import { VerifiedKeyCache } from './verified-key-cache';

function principal(n: number): ApiKeyPrincipal {
  return { id: `key-${n}`, name: `key ${n}`, prefix: `prefix0${n}`, scope: 'viewer' };
}

describe('VerifiedKeyCache', () => {
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock('2026-03-01T00:00:00.000Z');
  });

  it('answers a verified key until its TTL ends', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 10_000, maxEntries: 10 }, clock);
    cache.set('digest-1', principal(1), cache.mark());
    expect(cache.get('digest-1')).toEqual(principal(1));
    expect(cache.get('digest-2')).toBeUndefined();
    clock.advance(9_999);
    expect(cache.get('digest-1')).toEqual(principal(1));
    clock.advance(1);
    expect(cache.get('digest-1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops a revoked key at once, and refuses a lookup that began before the revoke', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 10_000, maxEntries: 10 }, clock);
    cache.set('digest-1', principal(1), cache.mark());
    cache.set('digest-2', principal(2), cache.mark());
    const before = cache.mark();
    cache.forget('key-1');
    expect(cache.get('digest-1')).toBeUndefined();
    expect(cache.get('digest-2')).toEqual(principal(2));
    // Read before the revoke, answered after it: not remembered.
    cache.set('digest-1', principal(1), before);
    expect(cache.get('digest-1')).toBeUndefined();
    cache.forget('key-unknown');
    expect(cache.size).toBe(1);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 10_000, maxEntries: 2 }, clock);
    for (const n of [1, 2, 3]) cache.set(`digest-${n}`, principal(n), cache.mark());
    expect(cache.size).toBe(2);
    expect(cache.get('digest-1')).toBeUndefined();
    expect(cache.get('digest-3')).toEqual(principal(3));
    // The evicted key no longer maps to its digest: forgetting it leaves the others alone.
    cache.forget('key-1');
    expect(cache.size).toBe(2);
  });

  it('keeps one entry per key', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 10_000, maxEntries: 10 }, clock);
    cache.set('digest-a', principal(1), cache.mark());
    cache.set('digest-b', principal(1), cache.mark());
    expect(cache.size).toBe(1);
    expect(cache.get('digest-b')).toEqual(principal(1));
  });

  it('remembers nothing with a TTL of 0', () => {
    const cache = new VerifiedKeyCache({ ttlMs: 0, maxEntries: 10 }, clock);
    expect(cache.enabled).toBe(false);
    cache.set('digest-1', principal(1), cache.mark());
    expect(cache.get('digest-1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
