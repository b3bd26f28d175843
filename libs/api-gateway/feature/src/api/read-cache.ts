import { type Clock } from '@stratavore/core';

export interface ReadCacheOptions {
  /** How old a cached reply may be; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Most replies remembered; past it the least recently stored goes. */
  readonly maxEntries: number;
}

/** How a read was answered: from the cache, by a read shared with others, or by its own. */
export type ReadCacheOutcome = 'hit' | 'shared' | 'miss' | 'bypass';

/** A stored reply (only replies read since the last {@link ReadCache.invalidate}). */
interface Entry<T> {
  readonly value: T;
  /** From then on a hit also starts the next read (refresh ahead). */
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/**
 * Replies of a read the gateway forwards, kept in memory by the read's key (the runner list
 * pages, the projects a budget check looks up; docs/architecture.md, "The API gateway").
 *
 * A reply is served from here while it is younger than `ttlMs` (counted from the moment its
 * read began) and nothing changed since that moment. Changes are counted by a generation number
 * that {@link invalidate} raises: the gateway calls it after every command it forwards to
 * runner-manager itself, so a client sees its own launch, stop or project change at once, and
 * for the runner list also when a runner event reaches it (another replica's launch, a state
 * change, a heartbeat's first or last report). A read that began before a change is returned to
 * its callers but never stored. What no event announces (for the list: CPU, memory, token
 * counters, the last heartbeat's time; for projects: another replica's update) is at most
 * `ttlMs` old.
 *
 * Concurrent reads of one key share one request to the services, and a reply past half its
 * `ttlMs` is read again in the background by its next hit (still answered from memory), so a
 * steadily read key is replaced before it expires instead of making its readers wait. The
 * cached replies are shared between requests: callers must not change them.
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Reads in flight, by key, shared by concurrent readers. */
  private readonly pending = new Map<string, Promise<T>>();
  private generation = 0;
  private hearsChanges: () => boolean = () => false;

  constructor(
    private readonly options: ReadCacheOptions,
    private readonly clock: Clock,
  ) {}

  /** Whether the options turn the cache on at all. */
  get configured(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  /** On when configured and while the gateway hears about changes ({@link listenTo}). */
  get enabled(): boolean {
    return this.configured && this.hearsChanges();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * `hearsChanges` tells whether changes reach the gateway now (its change subscription is up and
   * its bus connected). While it says no, every read goes to the services, nothing is stored,
   * and what was cached is dropped: events missed meanwhile cannot leave a stale reply behind.
   */
  listenTo(hearsChanges: () => boolean): void {
    this.hearsChanges = hearsChanges;
    this.invalidate();
  }

  /** Something a reply may show changed: no reply read before now is served or stored again. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
  }

  /**
   * The reply for `key`, from the cache or by `load`; `fresh` reads it anew (and stores the result for
   * the next reader). Resolves with the reply and how it was answered; rejects when `load` does.
   */
  async read(
    key: string,
    load: () => Promise<T>,
    options: { readonly fresh?: boolean } = {},
  ): Promise<{ readonly value: T; readonly outcome: ReadCacheOutcome }> {
    if (!this.enabled) {
      if (this.entries.size > 0 || this.pending.size > 0) this.invalidate();
      return { value: await load(), outcome: 'bypass' };
    }
    const now = this.clock.now().getTime();
    if (options.fresh !== true) {
      const entry = this.entries.get(key);
      if (entry !== undefined) {
        if (entry.expiresAt > now) {
          // Past half its life, the first reader also starts the next read in the background,
          // so that readers seldom wait for a reply that merely aged.
          if (now >= entry.refreshAt && !this.pending.has(key)) {
            this.load(key, load, now).catch(() => undefined);
          }
          return { value: entry.value, outcome: 'hit' };
        }
        this.entries.delete(key);
      }
      const shared = this.pending.get(key);
      if (shared !== undefined) {
        return { value: await shared, outcome: 'shared' };
      }
    }
    return { value: await this.load(key, load, now), outcome: 'miss' };
  }

  /** Reads the reply, shared with concurrent readers, and stores it unless something changed. */
  private async load(key: string, load: () => Promise<T>, now: number): Promise<T> {
    const generation = this.generation;
    const pending = load();
    this.pending.set(key, pending);
    try {
      const value = await pending;
      if (generation === this.generation) this.store(key, value, now);
      return value;
    } finally {
      if (this.pending.get(key) === pending) this.pending.delete(key);
    }
  }

  private store(key: string, value: T, readAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, {
      value,
      refreshAt: readAt + this.options.ttlMs / 2,
      expiresAt: readAt + this.options.ttlMs,
    });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** The gateway's {@link ReadCache} of runner list replies (`runners.list` with liveness). */
export const RUNNER_LIST_CACHE = Symbol('RUNNER_LIST_CACHE');

/** The gateway's {@link ReadCache} of the projects budget checks look up (`projects.get`). */
export const PROJECT_CACHE = Symbol('PROJECT_CACHE');
