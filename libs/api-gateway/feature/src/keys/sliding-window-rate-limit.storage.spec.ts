import { SlidingWindowRateLimitStorage } from './sliding-window-rate-limit.storage';

const MINUTE = 60_000;

describe('SlidingWindowRateLimitStorage', () => {
  let now: number;
  let storage: SlidingWindowRateLimitStorage;
  const hit = (key = 'key:a', limit = 3) =>
    storage.increment(key, MINUTE, limit, MINUTE, 'default');

  beforeEach(() => {
    now = Date.UTC(2026, 10, 24, 10, 0, 0);
    storage = new SlidingWindowRateLimitStorage(() => now);
  });

  it('allows `limit` requests per window and refuses the next, per key', async () => {
    for (let i = 1; i <= 3; i++) {
      expect(await hit()).toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    expect(await hit()).toEqual({
      totalHits: 4,
      timeToExpire: 60,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    expect((await hit('key:b')).isBlocked).toBe(false);
  });

  it('keeps refusing for the block duration, then counts the previous window by its overlap', async () => {
    for (let i = 0; i < 4; i++) await hit();
    now += 30_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
    now += 30_000;
    // A new window: the previous one (4 hits) still weighs in fully at its start.
    expect(await hit()).toMatchObject({ isBlocked: true, totalHits: 5 });
    now += 2 * MINUTE;
    expect(await hit()).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('never refuses a client spreading 90 % of its limit evenly', async () => {
    for (let i = 0; i < 300; i++) {
      expect((await hit('key:even', 10)).isBlocked).toBe(false);
      now += MINUTE / 9;
    }
  });

  it('weighs the previous window by how much of it the sliding window still covers', async () => {
    for (let i = 0; i < 10; i++) await hit('key:w', 100);
    now += MINUTE + MINUTE / 2;
    // Half of the previous window (10 hits) is still inside: 5 + this request.
    expect(await hit('key:w', 100)).toMatchObject({ totalHits: 6, timeToExpire: 30 });
  });

  it('forgets keys idle for two windows', async () => {
    await hit('key:old');
    now += MINUTE;
    await hit('key:new');
    expect(storage.size).toBe(2);
    now += 2 * MINUTE;
    await hit('key:new');
    expect(storage.size).toBe(1);
  });
});
