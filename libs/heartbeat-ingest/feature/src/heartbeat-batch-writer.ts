import { type FlushPlan, type RegisteredRunner } from '@stratavore/heartbeat-ingest-data-access';

import { type BufferedHeartbeat, HeartbeatBuffer } from './heartbeat-buffer';
import { type HeartbeatEventFactory } from './heartbeat-events';
import { planFlushInSlices, type PlannedFlush } from './heartbeat-flush-planner';
import { type HeartbeatIngestMetrics } from './heartbeat-ingest.metrics';

/** The part of the store a flush needs. */
export interface FlushStore {
  flush(
    runnerIds: readonly string[],
    decide: (locked: RegisteredRunner[]) => FlushPlan | Promise<FlushPlan>,
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
  /**
   * Most runners one flush transaction writes; a flush starts as soon as this many are
   * buffered. Small flushes keep each one's synchronous work (planning, parameters, event
   * signatures) short, so requests are not held up behind it.
   */
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
  /** Sees the registry rows each committed flush locked (the registry cache refreshes from them). */
  readonly flushed?: (locked: readonly RegisteredRunner[]) => void;
}

/**
 * Runners planned between two yields to the event loop: with a usage event and a session event
 * each (a contract check and an HMAC apiece, ~35 µs), under two milliseconds of work.
 */
const PLAN_SLICE = 25;

/** Lets the event loop serve what is waiting (requests) before the next chunk of a flush. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Buffers accepted heartbeats and writes them in batches of at most `maxEntries` runners, one
 * transaction each: every `flushIntervalMs` (everything buffered), as soon as `maxEntries`
 * runners are buffered (full batches; started once, not awaited by the heartbeat that filled
 * the buffer), at once for an exit report (which the agent will not send again), and on
 * {@link stop}. Flushes run one at a time; a failed flush puts its heartbeats back for the next
 * one.
 */
export class HeartbeatBatchWriter {
  private readonly buffer: HeartbeatBuffer;
  private chain: Promise<void> = Promise.resolve();
  private timer: { cancel(): void } | null = null;
  private readonly now: () => number;
  /** A flush started by a full buffer or the timer is queued or running. */
  private fullFlushQueued = false;
  private timedFlushQueued = false;
  /** After a failed flush, a full buffer waits for the timer (no retry loop on a down database). */
  private fullFlushPausedUntil = Number.NEGATIVE_INFINITY;

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
        if (this.buffer.size === 0 || this.timedFlushQueued) return;
        this.timedFlushQueued = true;
        this.flush()
          .catch(() => undefined)
          .finally(() => (this.timedFlushQueued = false));
      },
    );
  }

  /**
   * Buffers a heartbeat. Resolves at once, or after the flush that wrote it when `durable`
   * (rejecting if that flush failed). A heartbeat that fills the buffer starts a flush and
   * resolves without waiting for it.
   */
  accept(entry: BufferedHeartbeat, options: { durable?: boolean } = {}): Promise<void> {
    const full = this.buffer.add(entry);
    if (options.durable) return this.flushRunner(entry.report.runnerId);
    if (full) this.startFullFlush();
    return Promise.resolve();
  }

  /**
   * Writes what is buffered now (in batches of at most `maxEntries`), after any flush in
   * progress; rejects on the first batch that failed, whose heartbeats stay buffered.
   */
  flush(): Promise<void> {
    return this.enqueue(async () => {
      const max = this.deps.policy.maxEntries;
      for (let batches = Math.ceil(this.buffer.size / max); batches > 0; batches -= 1) {
        await this.write(this.buffer.take(max));
        if (batches > 1) await yieldToEventLoop();
      }
    });
  }

  /** Stops the timer and writes everything still buffered. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.chain;
    while (this.buffer.size > 0) await this.flush();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Full batches only; the timer writes the rest. Started at most once at a time, again at once
   * while the buffer stays full, and not before the next flush interval after a failure.
   */
  private startFullFlush(): void {
    if (this.fullFlushQueued || this.now() < this.fullFlushPausedUntil) return;
    this.fullFlushQueued = true;
    const max = this.deps.policy.maxEntries;
    this.enqueue(async () => {
      for (let batches = Math.floor(this.buffer.size / max); batches > 0; batches -= 1) {
        await this.write(this.buffer.take(max));
        if (batches > 1) await yieldToEventLoop();
      }
    }).then(
      () => {
        this.fullFlushQueued = false;
        if (this.buffer.size >= max) this.startFullFlush();
      },
      () => {
        this.fullFlushQueued = false;
        this.fullFlushPausedUntil = this.now() + this.deps.policy.flushIntervalMs;
      },
    );
  }

  /**
   * Writes the runner's buffered heartbeat in a batch of its own (filled up with others). When
   * its turn comes and it is no longer buffered, a flush before it has written it.
   */
  private flushRunner(runnerId: string): Promise<void> {
    return this.enqueue(() => this.write(this.buffer.take(this.deps.policy.maxEntries, runnerId)));
  }

  private async write(entries: BufferedHeartbeat[]): Promise<void> {
    if (entries.length === 0) return;
    const { metrics, logger } = this.deps;
    const started = this.now();
    let resets: PlannedFlush['resets'] = [];
    let unknown: readonly string[] = [];
    let lockedRows: readonly RegisteredRunner[] = [];
    try {
      await this.deps.store.flush(
        entries.map((e) => e.report.runnerId),
        async (locked) => {
          lockedRows = locked;
          const planned = await planFlushInSlices(locked, entries, this.deps.events, {
            sliceSize: PLAN_SLICE,
            pause: yieldToEventLoop,
          });
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
    this.deps.flushed?.(lockedRows);
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
