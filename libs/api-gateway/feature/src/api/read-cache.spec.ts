import { ManualClock } from '@stratavore/core';

import { ReadCache } from './read-cache';

/** A load that resolves when told to, counting its calls. */
function deferredLoads() {
  const waiting: Array<(value: string) => void> = [];
  let calls = 0;
  return {
    load: () =>
      new Promise<string>((resolve) => {
        calls++;
        waiting.push(resolve);
      }),
    resolveNext: (value: string) => waiting.shift()!(value),
    get calls() {
      return calls;
    },
  };
}

describe('ReadCache', () => {
  let clock: ManualClock;
  let cache: ReadCache<string>;
  let connected: boolean;

  beforeEach(() => {
    clock = new ManualClock('2026-11-24T12:00:00.000Z');
    cache = new ReadCache<string>({ ttlMs: 1_000, maxEntries: 3 }, clock);
    connected = true;
    cache.listenTo(() => connected);
  });

  it('answers a page from memory until ttlMs after its read began', async () => {
    let version = 0;
    const load = () => Promise.resolve(`page v${++version}`);
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'page v1', outcome: 'miss' });
    clock.advance(499);
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'page v1', outcome: 'hit' });
    expect(version).toBe(1);
    clock.advance(501); // nobody read it in its second half: it expired unrefreshed
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'page v2', outcome: 'miss' });
    await expect(cache.read('b', load)).resolves.toEqual({ value: 'page v3', outcome: 'miss' });
  });

  it('reads a page past half its life again in the background, answering from memory meanwhile', async () => {
    const loads = deferredLoads();
    const first = cache.read('a', loads.load);
    loads.resolveNext('v1');
    await first;
    clock.advance(600);
    await expect(cache.read('a', loads.load)).resolves.toEqual({ value: 'v1', outcome: 'hit' });
    expect(loads.calls).toBe(2); // the refresh, started by that hit
    await expect(cache.read('a', loads.load)).resolves.toEqual({ value: 'v1', outcome: 'hit' });
    expect(loads.calls).toBe(2); // one refresh at a time
    loads.resolveNext('v2');
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(500); // v1 would have expired; v2 was read at +600 ms
    await expect(cache.read('a', loads.load)).resolves.toEqual({ value: 'v2', outcome: 'hit' });
    expect(loads.calls).toBe(3); // v2 is half its life old: the next refresh
    clock.advance(600); // v2 expired before that refresh came back: its readers wait for it
    const waited = cache.read('a', loads.load);
    expect(loads.calls).toBe(3);
    loads.resolveNext('v3');
    await expect(waited).resolves.toEqual({ value: 'v3', outcome: 'shared' });
  });

  it('does not store a background read that a change overtook', async () => {
    const loads = deferredLoads();
    const first = cache.read('a', loads.load);
    loads.resolveNext('v1');
    await first;
    clock.advance(600);
    await cache.read('a', loads.load); // starts the refresh
    cache.invalidate();
    loads.resolveNext('read before the change');
    await Promise.resolve();
    await Promise.resolve();
    expect(cache.size).toBe(0);
  });

  it('counts the age from the start of the read, not its end', async () => {
    const loads = deferredLoads();
    const first = cache.read('a', loads.load);
    clock.advance(800);
    loads.resolveNext('slow page');
    await first;
    clock.advance(200);
    const again = cache.read('a', loads.load);
    expect(loads.calls).toBe(2);
    loads.resolveNext('next page');
    await expect(again).resolves.toEqual({ value: 'next page', outcome: 'miss' });
  });

  it('drops every page on invalidate, and never stores a read that began before it', async () => {
    let version = 0;
    const load = () => Promise.resolve(`v${++version}`);
    await cache.read('a', load);
    cache.invalidate();
    expect(cache.size).toBe(0);
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'v2', outcome: 'miss' });

    const loads = deferredLoads();
    const racing = cache.read('b', loads.load);
    cache.invalidate(); // a launch committed while the page was being read
    loads.resolveNext('page without the launch');
    await expect(racing).resolves.toEqual({ value: 'page without the launch', outcome: 'miss' });
    expect(cache.size).toBe(0);
    const after = cache.read('b', loads.load);
    expect(loads.calls).toBe(2);
    loads.resolveNext('page with the launch');
    await expect(after).resolves.toEqual({ value: 'page with the launch', outcome: 'miss' });
  });

  it('shares one read between concurrent requests for the same page, not across a change', async () => {
    const loads = deferredLoads();
    const first = cache.read('a', loads.load);
    const second = cache.read('a', loads.load);
    expect(loads.calls).toBe(1);
    cache.invalidate();
    const third = cache.read('a', loads.load);
    expect(loads.calls).toBe(2);
    loads.resolveNext('old');
    loads.resolveNext('new');
    await expect(first).resolves.toEqual({ value: 'old', outcome: 'miss' });
    await expect(second).resolves.toEqual({ value: 'old', outcome: 'shared' });
    await expect(third).resolves.toEqual({ value: 'new', outcome: 'miss' });
    await expect(cache.read('a', loads.load)).resolves.toEqual({ value: 'new', outcome: 'hit' });
  });

  it('reads anew when asked for a fresh page, and keeps that page for the next reader', async () => {
    let version = 0;
    const load = () => Promise.resolve(`v${++version}`);
    await cache.read('a', load);
    await expect(cache.read('a', load, { fresh: true })).resolves.toEqual({
      value: 'v2',
      outcome: 'miss',
    });
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'v2', outcome: 'hit' });
  });

  it('passes a failed read on to every caller sharing it and stores nothing', async () => {
    let fail = true;
    const load = () =>
      fail ? Promise.reject(new Error('runner-manager down')) : Promise.resolve('ok');
    const [a, b] = await Promise.allSettled([cache.read('a', load), cache.read('a', load)]);
    expect(a).toMatchObject({ status: 'rejected', reason: { message: 'runner-manager down' } });
    expect(b).toMatchObject({ status: 'rejected', reason: { message: 'runner-manager down' } });
    fail = false;
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'ok', outcome: 'miss' });
  });

  it('keeps at most maxEntries pages, dropping the oldest stored', async () => {
    const load = (value: string) => () => Promise.resolve(value);
    for (const key of ['a', 'b', 'c', 'd']) await cache.read(key, load(key));
    expect(cache.size).toBe(3);
    await expect(cache.read('a', load('a again'))).resolves.toEqual({
      value: 'a again',
      outcome: 'miss',
    });
    await expect(cache.read('d', load('x'))).resolves.toEqual({ value: 'd', outcome: 'hit' });
  });

  it('serves nothing from memory while it does not hear changes, and drops what it had', async () => {
    let version = 0;
    const load = () => Promise.resolve(`v${++version}`);
    await cache.read('a', load);
    connected = false;
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'v2', outcome: 'bypass' });
    expect(cache.size).toBe(0);
    connected = true;
    await expect(cache.read('a', load)).resolves.toEqual({ value: 'v3', outcome: 'miss' });
  });

  it('is off with ttlMs 0, and before it listens to changes', async () => {
    const off = new ReadCache<string>({ ttlMs: 0, maxEntries: 3 }, clock);
    off.listenTo(() => true);
    expect(off.configured).toBe(false);
    await expect(off.read('a', () => Promise.resolve('x'))).resolves.toEqual({
      value: 'x',
      outcome: 'bypass',
    });
    const deaf = new ReadCache<string>({ ttlMs: 1_000, maxEntries: 3 }, clock);
    expect(deaf.configured).toBe(true);
    expect(deaf.enabled).toBe(false);
    await expect(deaf.read('a', () => Promise.resolve('y'))).resolves.toEqual({
      value: 'y',
      outcome: 'bypass',
    });
    expect(deaf.size).toBe(0);
  });
});
