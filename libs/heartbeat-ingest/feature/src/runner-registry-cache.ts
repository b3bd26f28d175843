import {
  type RegistryDesiredState,
  type RunnerAccess,
} from '@stratavore/heartbeat-ingest-data-access';

import { type HeartbeatIngestMetrics } from './heartbeat-ingest.metrics';

/** Where the cache reads runners it does not hold (the `heartbeat.runners` registry). */
export interface RunnerAccessSource {
  findRunnerAccess(runnerIds: readonly string[]): Promise<RunnerAccess[]>;
}

/** A change of the registry, from the registry consumer or another replica's events. */
export type RegistryChange =
  | { readonly kind: 'registered'; readonly runner: RunnerAccess }
  | { readonly kind: 'stop-requested'; readonly runnerId: string }
  | { readonly kind: 'ended'; readonly runnerId: string };

export interface RunnerRegistryCacheDeps {
  readonly source: RunnerAccessSource;
  /** How long a runner read from the registry is trusted without a new read (ms). */
  readonly ttlMs: number;
  readonly metrics: Pick<HeartbeatIngestMetrics, 'registryLookups' | 'registryCached'>;
  /** Monotonic milliseconds; tests pass a manual one. */
  readonly now?: () => number;
  /** Most runners one registry read asks for (default 500). */
  readonly maxBatch?: number;
}

interface Entry {
  /** What the registry last said (`null`: only events are known of this runner). */
  access: RunnerAccess | null;
  /** Facts from events, kept over any older registry read. */
  desiredState: RegistryDesiredState;
  ended: boolean;
  /** `access` as answered, with the facts applied. */
  view: RunnerAccess | null;
  /** Until when `access` is trusted (monotonic ms). */
  expiresAt: number;
}

interface WaitingLoad {
  readonly runnerId: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const DESIRED_RANK: Record<RegistryDesiredState, number> = { run: 0, stop: 1, kill: 2 };

function further(a: RegistryDesiredState, b: RegistryDesiredState): RegistryDesiredState {
  return DESIRED_RANK[b] > DESIRED_RANK[a] ? b : a;
}

/**
 * One replica's copy of the registry rows heartbeats are checked against, so a heartbeat costs
 * no database round trip. Filled by a bulk read at start ({@link confirm}), by reading a runner
 * on first sight (reads of one event-loop turn are batched into one query, one per runner at a
 * time), by every flush (the rows it locks), and by registry changes ({@link apply}).
 *
 * Changes only move forward: a stop request or an end, once known from an event, survives an
 * older registry read, so the order in which events and reads arrive does not matter. A runner
 * not confirmed by the registry for `ttlMs` is read again before its next heartbeat is
 * answered (the safety net for a missed event); one not confirmed for twice that is dropped.
 * Unknown runners are not remembered: each of their heartbeats reads the registry, as a runner
 * registered a moment ago must be found.
 */
export class RunnerRegistryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<void>>();
  private waiting: WaitingLoad[] = [];
  private readonly now: () => number;
  private readonly maxBatch: number;

  constructor(private readonly deps: RunnerRegistryCacheDeps) {
    if (!(deps.ttlMs > 0)) throw new Error(`ttlMs must be positive, got ${deps.ttlMs}`);
    this.now = deps.now ?? (() => performance.now());
    this.maxBatch = deps.maxBatch ?? 500;
  }

  /** Runners held (fresh or not). */
  get size(): number {
    return this.entries.size;
  }

  /** The runner as heartbeats see it; read from the registry when not held or expired. */
  async find(runnerId: string): Promise<RunnerAccess | null> {
    const held = this.entries.get(runnerId);
    if (held?.view && held.expiresAt > this.now()) {
      this.deps.metrics.registryLookups.inc({ result: 'cached' });
      return held.view;
    }
    await this.load(runnerId);
    const view = this.entries.get(runnerId)?.view ?? null;
    this.deps.metrics.registryLookups.inc({ result: view ? 'loaded' : 'unknown' });
    return view;
  }

  /** Records what the registry says now of these runners (a read, a flush's locked rows). */
  confirm(runners: readonly RunnerAccess[]): void {
    const expiresAt = this.now() + this.deps.ttlMs;
    for (const runner of runners) {
      const entry = this.entryOf(runner.runnerId);
      entry.access = {
        runnerId: runner.runnerId,
        projectId: runner.projectId,
        tokenHash: runner.tokenHash,
        intervalMs: runner.intervalMs,
        desiredState: runner.desiredState,
        ended: runner.ended,
      };
      entry.expiresAt = expiresAt;
      this.settle(entry);
    }
  }

  /** Applies a registry change known from an event (before or after the registry has it). */
  apply(change: RegistryChange): void {
    switch (change.kind) {
      case 'registered':
        this.confirm([change.runner]);
        return;
      case 'stop-requested': {
        const entry = this.entryOf(change.runnerId);
        entry.desiredState = further(entry.desiredState, 'stop');
        this.settle(entry);
        return;
      }
      case 'ended': {
        const entry = this.entryOf(change.runnerId);
        entry.ended = true;
        this.settle(entry);
        return;
      }
    }
  }

  /** Drops runners the registry has not confirmed for twice the TTL (ended, or gone quiet). */
  sweep(): void {
    const before = this.now() - this.deps.ttlMs;
    for (const [runnerId, entry] of this.entries) {
      if (entry.expiresAt <= before) this.entries.delete(runnerId);
    }
    this.deps.metrics.registryCached.set(this.entries.size);
  }

  private entryOf(runnerId: string): Entry {
    let entry = this.entries.get(runnerId);
    if (!entry) {
      // Known from an event only: never fresh, kept for one TTL so its facts outlive the race
      // with the registry consumer's commit.
      entry = {
        access: null,
        desiredState: 'run',
        ended: false,
        view: null,
        expiresAt: this.now(),
      };
      this.entries.set(runnerId, entry);
    }
    return entry;
  }

  private settle(entry: Entry): void {
    const access = entry.access;
    if (!access) return;
    entry.desiredState = further(entry.desiredState, access.desiredState);
    entry.ended ||= access.ended;
    entry.view =
      entry.desiredState === access.desiredState && entry.ended === access.ended
        ? access
        : { ...access, desiredState: entry.desiredState, ended: entry.ended };
  }

  /** Reads a runner, batched with the other reads of this event-loop turn. */
  private load(runnerId: string): Promise<void> {
    const pending = this.loading.get(runnerId);
    if (pending) return pending;
    const load = new Promise<void>((resolve, reject) => {
      this.waiting.push({ runnerId, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.loadWaiting());
    });
    this.loading.set(runnerId, load);
    return load;
  }

  private loadWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let i = 0; i < waiting.length; i += this.maxBatch) {
      void this.loadBatch(waiting.slice(i, i + this.maxBatch));
    }
  }

  private async loadBatch(batch: readonly WaitingLoad[]): Promise<void> {
    const ids = batch.map((w) => w.runnerId);
    try {
      this.confirm(await this.deps.source.findRunnerAccess(ids));
      for (const w of batch) w.resolve();
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      for (const id of ids) this.loading.delete(id);
    }
  }
}
