import { type FlushPlan, type RegisteredRunner } from '@stratavore/heartbeat-ingest-data-access';

import { type BufferedHeartbeat, HeartbeatBuffer } from './heartbeat-buffer';
import { type HeartbeatEventFactory } from './heartbeat-events';
import { planFlush } from './heartbeat-flush-planner';
import { type HeartbeatIngestMetrics } from './heartbeat-ingest.metrics';

/** The part of the store a flush needs. */
export interface FlushStore {
  flush(
    runnerIds: readonly string[],
    decide: (locked: RegisteredRunner[]) => FlushPlan,
  ): Promise<FlushPlan>;
}

/** Runs a callback every `ms`; injected so tests drive time. */
export interface Scheduler {
  every(ms: number, task: () => void): { cancel(): void };
}

export const timerScheduler: Scheduler = {
  every(ms, task) {
    const timer = setInterval(task, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

export interface BatchPolicy {
  /** Flush at least this often (ms). */
  readonly flushIntervalMs: number;
  /** Flush as soon as this many runners are buffered. */
  readonly maxEntries: number;
}

export interface BatchLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface HeartbeatBatchWriterDeps {
  readonly store: FlushStore;
  readonly events: HeartbeatEventFactory;
  readonly policy: BatchPolicy;
  readonly scheduler?: Scheduler;
  readonly metrics: HeartbeatIngestMetrics;
  readonly logger: BatchLogger;
  /** Monotonic milliseconds for flush durations. */
  readonly now?: () => number;
}

/**
 * Buffers accepted heartbeats and writes them in batches: every `flushIntervalMs`, as soon as
 * `maxEntries` runners are buffered, at once for an exit report (which the agent will not send
 * again), and on {@link stop}. Flushes run one at a time; a failed flush puts its heartbeats
 * back for the next one.
 */
export class HeartbeatBatchWriter {
  private readonly buffer: HeartbeatBuffer;
  private chain: Promise<void> = Promise.resolve();
  private timer: { cancel(): void } | null = null;
  private readonly now: () => number;

  constructor(private readonly deps: HeartbeatBatchWriterDeps) {
    this.buffer = new HeartbeatBuffer(deps.policy.maxEntries);
    this.now = deps.now ?? (() => performance.now());
  }

  get buffered(): number {
    return this.buffer.size;
  }

  /**
   * The heartbeat waiting in the buffer for a runner, if any. Entries a flush has taken but not
   * yet committed are in neither the buffer nor the database for that moment.
   */
  pending(runnerId: string): BufferedHeartbeat | undefined {
    return this.buffer.peek(runnerId);
  }

  start(): void {
    if (this.timer) return;
    this.timer = (this.deps.scheduler ?? timerScheduler).every(
      this.deps.policy.flushIntervalMs,
      () => {
        if (this.buffer.size > 0) this.flush().catch(() => undefined);
      },
    );
  }

  /**
   * Buffers a heartbeat. Resolves at once, or after the flush that wrote it when `durable`
   * (rejecting if that flush failed) or when the buffer filled up.
   */
  async accept(entry: BufferedHeartbeat, options: { durable?: boolean } = {}): Promise<void> {
    const full = this.buffer.add(entry);
    if (options.durable) return this.flush();
    if (full) await this.flush().catch(() => undefined);
  }

  /** Writes what is buffered now, after any flush in progress. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.flushOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and writes everything still buffered. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.chain;
    while (this.buffer.size > 0) await this.flush();
  }

  private async flushOnce(): Promise<void> {
    const entries = this.buffer.drain();
    if (entries.length === 0) return;
    const { metrics, logger } = this.deps;
    const started = this.now();
    let resets: ReturnType<typeof planFlush>['resets'] = [];
    let unknown: readonly string[] = [];
    try {
      await this.deps.store.flush(
        entries.map((e) => e.report.runnerId),
        (locked) => {
          const planned = planFlush(locked, entries, this.deps.events);
          resets = planned.resets;
          unknown = planned.unknown;
          return planned.plan;
        },
      );
    } catch (error) {
      this.buffer.restore(entries);
      metrics.flushFailures.inc();
      logger.error(
        `heartbeat flush of ${entries.length} runners failed, kept for the next one: ${String(error)}`,
      );
      throw error;
    }
    metrics.flushSize.observe(entries.length);
    metrics.flushDuration.observe((this.now() - started) / 1000);
    for (const reset of resets) {
      metrics.counterResets.inc(reset.counters.length);
      logger.warn(
        `runner ${reset.runnerId}: cumulative counters went down (${reset.counters.join(', ')}); treated as a reset, the reported values are the new base`,
      );
    }
    if (unknown.length > 0) {
      logger.warn(`heartbeats of runners no longer registered were dropped: ${unknown.join(', ')}`);
    }
  }
}
