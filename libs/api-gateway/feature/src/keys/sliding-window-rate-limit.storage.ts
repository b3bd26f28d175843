import { type ThrottlerStorage } from '@nestjs/throttler';

/** The return type of {@link ThrottlerStorage.increment}. */
type RateLimitRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Counter {
  /** Start of the current fixed window (ms). */
  windowStart: number;
  current: number;
  /** Hits of the window before the current one. */
  previous: number;
  /** Refusing until then (ms); 0 when not blocked. */
  blockedUntil: number;
}

/**
 * The gateway's rate-limit counters: a sliding window estimated from two fixed windows per key
 * (`previous * (1 - elapsed / ttl) + current`), O(1) time and memory per request.
 *
 * `@nestjs/throttler`'s default storage keeps one expiry time per hit and filters that array on
 * every request: at 500 requests/s with a one-minute window, one key's array holds 30,000
 * entries, copied on each request (docs/benchmarks.md, "budget-check"). The estimate assumes
 * the previous window's hits were spread evenly, so a client close to its limit may be refused
 * a little early or late; one spreading 90 % of its limit evenly is never refused, and a burst
 * above `limit` within a window is always refused.
 *
 * Counters of keys idle for two windows are dropped on the next sweep (at most once per window),
 * so memory follows the active keys.
 */
export class SlidingWindowRateLimitStorage implements ThrottlerStorage {
  private readonly counters = new Map<string, Counter>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.counters.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<RateLimitRecord> {
    const now = this.now();
    this.sweep(now, ttl);
    const id = `${throttlerName}\u0000${key}`;
    let counter = this.counters.get(id);
    if (!counter) {
      counter = { windowStart: now, current: 0, previous: 0, blockedUntil: 0 };
      this.counters.set(id, counter);
    }
    if (now >= counter.windowStart + ttl) {
      const passed = Math.floor((now - counter.windowStart) / ttl);
      counter.previous = passed === 1 ? counter.current : 0;
      counter.current = 0;
      counter.windowStart += passed * ttl;
    }
    const timeToExpire = Math.max(1, Math.ceil((counter.windowStart + ttl - now) / 1000));
    if (counter.blockedUntil > now) {
      return Promise.resolve({
        totalHits: this.estimate(counter, now, ttl) + 1,
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: Math.ceil((counter.blockedUntil - now) / 1000),
      });
    }
    counter.blockedUntil = 0;
    counter.current++;
    const totalHits = this.estimate(counter, now, ttl);
    const isBlocked = totalHits > limit;
    if (isBlocked) counter.blockedUntil = now + Math.max(1, blockDuration);
    return Promise.resolve({
      totalHits,
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(Math.max(1, blockDuration) / 1000) : 0,
    });
  }

  private estimate(counter: Counter, now: number, ttl: number): number {
    const weight = 1 - (now - counter.windowStart) / ttl;
    return Math.floor(counter.previous * weight) + counter.current;
  }

  private sweep(now: number, ttl: number): void {
    if (now - this.lastSweep < ttl) return;
    this.lastSweep = now;
    for (const [id, counter] of this.counters) {
      if (counter.windowStart + 2 * ttl <= now && counter.blockedUntil <= now) {
        this.counters.delete(id);
      }
    }
  }
}
