import { type RunnerAccess } from '@stratavore/heartbeat-ingest-data-access';

import { heartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { type RunnerAccessSource, RunnerRegistryCache } from './runner-registry-cache';

const A = '11111111-1111-4111-8111-111111111111';
const B = '11111111-1111-4111-8111-222222222222';
const C = '11111111-1111-4111-8111-333333333333';
const TTL = 30_000;

function access(runnerId: string, overrides: Partial<RunnerAccess> = {}): RunnerAccess {
  return {
    runnerId,
    projectId: '22222222-2222-4222-8222-222222222222',
    tokenHash: 'a'.repeat(64),
    intervalMs: 10_000,
    desiredState: 'run',
    ended: false,
    ...overrides,
  };
}

/** The registry as the cache reads it: records every read; rows are changed by the test. */
class FakeRegistry implements RunnerAccessSource {
  readonly reads: string[][] = [];
  readonly rows = new Map<string, RunnerAccess>();
  failing = false;

  findRunnerAccess(runnerIds: readonly string[]): Promise<RunnerAccess[]> {
    this.reads.push([...runnerIds]);
    if (this.failing) return Promise.reject(new Error('database down'));
    return Promise.resolve(
      runnerIds.flatMap((id) => {
        const row = this.rows.get(id);
        return row ? [row] : [];
      }),
    );
  }
}

function setup() {
  const registry = new FakeRegistry();
  let now = 1_000;
  const cache = new RunnerRegistryCache({
    source: registry,
    ttlMs: TTL,
    metrics: heartbeatIngestMetrics(),
    now: () => now,
  });
  return {
    registry,
    cache,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('RunnerRegistryCache', () => {
  it('reads a runner once, then answers from memory', async () => {
    const { registry, cache } = setup();
    registry.rows.set(A, access(A));
    expect(await cache.find(A)).toEqual(access(A));
    expect(await cache.find(A)).toEqual(access(A));
    expect(registry.reads).toEqual([[A]]);
  });

  it('batches the reads of one event-loop turn and reads each runner once at a time', async () => {
    const { registry, cache } = setup();
    registry.rows.set(A, access(A));
    registry.rows.set(B, access(B));
    const found = await Promise.all([cache.find(A), cache.find(B), cache.find(A), cache.find(C)]);
    expect(found.map((r) => r?.runnerId ?? null)).toEqual([A, B, A, null]);
    expect(registry.reads).toEqual([[A, B, C]]);
  });

  it('does not remember unknown runners: one registered since is found', async () => {
    const { registry, cache } = setup();
    expect(await cache.find(A)).toBeNull();
    registry.rows.set(A, access(A));
    expect(await cache.find(A)).toEqual(access(A));
    expect(registry.reads).toEqual([[A], [A]]);
  });

  it('reads a runner again once the TTL passed since the registry last confirmed it', async () => {
    const { registry, cache, advance } = setup();
    cache.confirm([access(A)]);
    registry.rows.set(A, access(A, { ended: true }));
    advance(TTL - 1);
    expect(await cache.find(A)).toMatchObject({ ended: false });
    expect(registry.reads).toEqual([]);
    // A flush's locked rows confirm it again: still no read.
    cache.confirm([access(A)]);
    advance(TTL - 1);
    expect(await cache.find(A)).toMatchObject({ ended: false });
    advance(1);
    expect(await cache.find(A)).toMatchObject({ ended: true });
    expect(registry.reads).toEqual([[A]]);
  });

  it('applies stop requests and ends at once, and never lets an older read undo them', async () => {
    const { registry, cache } = setup();
    cache.apply({ kind: 'registered', runner: access(A) });
    cache.apply({ kind: 'stop-requested', runnerId: A });
    expect(await cache.find(A)).toMatchObject({ desiredState: 'stop', ended: false });
    cache.apply({ kind: 'ended', runnerId: A });
    // A read that committed before the events (a flush's locked rows) arrives after them.
    cache.confirm([access(A)]);
    expect(await cache.find(A)).toMatchObject({ desiredState: 'stop', ended: true });
    expect(registry.reads).toEqual([]);
  });

  it('keeps an event about a runner it does not hold for the read that follows', async () => {
    const { registry, cache } = setup();
    cache.apply({ kind: 'ended', runnerId: A });
    // The registry consumer has not committed the end yet.
    registry.rows.set(A, access(A));
    expect(await cache.find(A)).toMatchObject({ ended: true });
    expect(registry.reads).toEqual([[A]]);
  });

  it('drops runners the registry has not confirmed for twice the TTL', () => {
    const { cache, advance } = setup();
    cache.confirm([access(A), access(B)]);
    cache.apply({ kind: 'ended', runnerId: C });
    advance(TTL);
    cache.sweep();
    expect(cache.size).toBe(2);
    cache.confirm([access(B)]);
    advance(TTL);
    cache.sweep();
    expect(cache.size).toBe(1);
  });

  it('fails the lookups of a failed read and reads again next time', async () => {
    const { registry, cache } = setup();
    registry.rows.set(A, access(A));
    registry.failing = true;
    await expect(cache.find(A)).rejects.toThrow('database down');
    registry.failing = false;
    expect(await cache.find(A)).toEqual(access(A));
    expect(registry.reads).toEqual([[A], [A]]);
  });
});
