import { type FlushPlan, type RegisteredRunner } from '@stratavore/heartbeat-ingest-data-access';

import { type FlushStore, HeartbeatBatchWriter, type Scheduler } from './heartbeat-batch-writer';
import { HeartbeatBuffer } from './heartbeat-buffer';
import { exitOutcome, planFlush, planFlushInSlices } from './heartbeat-flush-planner';
import { heartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { buffered, registered, testEvents } from './heartbeat-ingest.test-support';

const A = '11111111-1111-4111-8111-111111111111';
const B = '11111111-1111-4111-8111-222222222222';

class ManualScheduler implements Scheduler {
  private tasks: Array<() => void> = [];
  every(_ms: number, task: () => void) {
    this.tasks.push(task);
    return { cancel: () => (this.tasks = this.tasks.filter((t) => t !== task)) };
  }
  tick(): void {
    for (const task of this.tasks) task();
  }
}

/**
 * A strict fake store: records every flush, fails when told to, and when `held` keeps each
 * flush open until the test releases it.
 */
class FakeFlushStore implements FlushStore {
  readonly flushes: Array<{ ids: readonly string[]; plan: FlushPlan }> = [];
  readonly started: Array<readonly string[]> = [];
  private readonly releases: Array<() => void> = [];
  failNext = false;
  held = false;
  constructor(private readonly rows: RegisteredRunner[]) {}
  async flush(
    ids: readonly string[],
    decide: (locked: RegisteredRunner[]) => FlushPlan | Promise<FlushPlan>,
  ) {
    this.started.push(ids);
    if (this.held) await new Promise<void>((resolve) => this.releases.push(resolve));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database down');
    }
    const plan = await decide(this.rows.filter((r) => ids.includes(r.runnerId)));
    this.flushes.push({ ids, plan });
    return plan;
  }
  /** Lets the flush in progress commit. */
  release(): void {
    this.releases.shift()?.();
  }
}

/** Resolves once `condition` holds, checked after pending callbacks ran (each event-loop turn). */
async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; ; turns += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    if (condition()) return;
    if (turns > 1_000) throw new Error('condition never held');
  }
}

const silentLogger = { warn: () => undefined, error: () => undefined };

function writer(
  store: FlushStore,
  scheduler: Scheduler,
  maxEntries = 100,
  flushed?: (locked: readonly RegisteredRunner[]) => void,
) {
  return new HeartbeatBatchWriter({
    store,
    events: testEvents(),
    policy: { flushIntervalMs: 1_000, maxEntries },
    scheduler,
    metrics: heartbeatIngestMetrics(),
    logger: silentLogger,
    flushed,
  });
}

const C = '11111111-1111-4111-8111-333333333333';
const D = '11111111-1111-4111-8111-444444444444';
const E = '11111111-1111-4111-8111-555555555555';
const STRANGER = '11111111-1111-4111-8111-666666666666';

describe('HeartbeatBuffer', () => {
  it('keeps one entry per runner, the highest seq winning', () => {
    const buffer = new HeartbeatBuffer(10);
    buffer.add(buffered(A, { seq: 5 }));
    buffer.add(buffered(A, { seq: 3 }));
    buffer.add(buffered(B, { seq: 1 }));
    expect(buffer.size).toBe(2);
    expect(buffer.drain().map((e) => [e.report.runnerId, e.report.seq])).toEqual([
      [A, 5],
      [B, 1],
    ]);
    expect(buffer.size).toBe(0);
  });

  it('says full at maxEntries runners, and restores without overriding newer reports', () => {
    const buffer = new HeartbeatBuffer(2);
    expect(buffer.add(buffered(A, { seq: 1 }))).toBe(false);
    expect(buffer.add(buffered(B, { seq: 1 }))).toBe(true);
    const taken = buffer.drain();
    buffer.add(buffered(A, { seq: 2 }));
    buffer.restore(taken);
    expect(
      buffer
        .drain()
        .map((e) => e.report.seq)
        .sort(),
    ).toEqual([1, 2]);
  });
});

describe('HeartbeatBatchWriter', () => {
  it('writes many heartbeats in one flush on the timer', async () => {
    const store = new FakeFlushStore([registered(A), registered(B)]);
    const scheduler = new ManualScheduler();
    const w = writer(store, scheduler);
    w.start();
    await w.accept(buffered(A));
    await w.accept(buffered(B));
    expect(store.flushes).toHaveLength(0);
    scheduler.tick();
    await w.stop();
    expect(store.flushes).toHaveLength(1);
    expect(store.flushes[0]?.ids).toEqual([A, B]);
  });

  it('flushes at once when full or for an exit report, and on stop', async () => {
    const store = new FakeFlushStore([registered(A), registered(B)]);
    const w = writer(store, new ManualScheduler(), 2);
    await w.accept(buffered(A));
    await w.accept(buffered(B));
    await until(() => store.flushes.length === 1);
    await w.accept(buffered(A, { seq: 2, status: 'exited', exit: { code: 0, signal: null } }), {
      durable: true,
    });
    expect(store.flushes).toHaveLength(2);
    await w.accept(buffered(B, { seq: 2 }));
    await w.stop();
    expect(store.flushes).toHaveLength(3);
  });

  it('answers the heartbeat that fills the buffer at once and starts one flush for it', async () => {
    const store = new FakeFlushStore([A, B, C, D, E].map((id) => registered(id)));
    store.held = true;
    const w = writer(store, new ManualScheduler(), 2);
    await w.accept(buffered(A));
    await w.accept(buffered(B));
    await until(() => store.started.length === 1);
    // The flush is still open: heartbeats that fill the buffer again neither wait nor start more.
    await w.accept(buffered(C));
    await w.accept(buffered(D));
    await w.accept(buffered(E));
    expect(store.started).toEqual([[A, B]]);
    expect(w.buffered).toBe(3);
    store.release();
    // Still full once it committed: the next full batch starts without waiting for a heartbeat.
    await until(() => store.started.length === 2);
    expect(store.started[1]).toEqual([C, D]);
    store.release();
    await until(() => store.flushes.length === 2);
    expect(w.buffered).toBe(1);
  });

  it('after a failed flush, leaves a full buffer to the timer until the next interval', async () => {
    const store = new FakeFlushStore([A, B, C, D].map((id) => registered(id)));
    let now = 0;
    const w = new HeartbeatBatchWriter({
      store,
      events: testEvents(),
      policy: { flushIntervalMs: 1_000, maxEntries: 2 },
      scheduler: new ManualScheduler(),
      metrics: heartbeatIngestMetrics(),
      logger: silentLogger,
      now: () => now,
    });
    store.failNext = true;
    await w.accept(buffered(A));
    await w.accept(buffered(B));
    // The failed flush put its heartbeats back.
    await until(() => store.started.length === 1 && w.buffered === 2);
    await w.accept(buffered(C));
    expect(store.started).toHaveLength(1);
    now += 1_000;
    await w.accept(buffered(D));
    await until(() => store.flushes.length === 2);
    expect(store.flushes.map((f) => f.ids)).toEqual([
      [A, B],
      [C, D],
    ]);
  });

  it('writes at most maxEntries runners per transaction', async () => {
    const store = new FakeFlushStore([A, B, C, D, E].map((id) => registered(id)));
    store.held = true;
    const w = writer(store, new ManualScheduler(), 2);
    for (const id of [A, B, C, D, E]) await w.accept(buffered(id));
    const flushed = w.flush();
    store.held = false;
    store.release();
    await flushed;
    expect(store.flushes.map((f) => f.ids)).toEqual([[A, B], [C, D], [E]]);
  });

  it('writes an exit report first, in a batch of at most maxEntries', async () => {
    const store = new FakeFlushStore([A, B, C].map((id) => registered(id)));
    const w = writer(store, new ManualScheduler(), 2);
    await w.accept(buffered(A));
    await w.accept(buffered(C, { seq: 2, status: 'exited', exit: { code: 0, signal: null } }), {
      durable: true,
    });
    expect(store.flushes.map((f) => f.ids)).toEqual([[C, A]]);
  });

  it('hands the registry rows each committed flush locked to the registry cache', async () => {
    const locked: string[][] = [];
    const store = new FakeFlushStore([registered(A), registered(B)]);
    const w = writer(store, new ManualScheduler(), 100, (rows) =>
      locked.push(rows.map((r) => r.runnerId)),
    );
    await w.accept(buffered(A));
    store.failNext = true;
    await expect(w.flush()).rejects.toThrow('database down');
    expect(locked).toEqual([]);
    await w.accept(buffered(B));
    await w.flush();
    expect(locked).toEqual([[A, B]]);
  });

  it('keeps the heartbeats of a failed flush for the next one', async () => {
    const store = new FakeFlushStore([registered(A)]);
    const w = writer(store, new ManualScheduler());
    await w.accept(buffered(A));
    store.failNext = true;
    await expect(w.flush()).rejects.toThrow('database down');
    expect(w.buffered).toBe(1);
    await w.flush();
    expect(store.flushes).toHaveLength(1);
  });
});

describe('planFlush', () => {
  const events = testEvents();

  it('books usage only above the last seq and signals the first heartbeat once', () => {
    const counters = {
      inputTokens: 100,
      outputTokens: 10,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    };
    const first = planFlush([registered(A)], [buffered(A, { seq: 1, counters })], events);
    expect(first.plan.events.map((e) => e.type)).toEqual([
      'usage.reported',
      'heartbeat.first-received',
    ]);
    const after = registered(A, { lastSeq: 1, counters, startedAt: new Date() });
    const repeat = planFlush([after], [buffered(A, { seq: 1, counters })], events);
    expect(repeat.plan.events).toEqual([]);
    expect(repeat.plan.progress).toEqual([]);
    expect(repeat.plan.liveness).toHaveLength(1);
  });

  it('signals an exit once, after the usage it carries, and nothing for an ended runner', () => {
    const exited = buffered(A, {
      seq: 9,
      status: 'exited',
      exit: { code: 0, signal: null },
      counters: { inputTokens: 5, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    });
    const running = registered(A, { lastSeq: 8, startedAt: new Date() });
    expect(planFlush([running], [exited], events).plan.events.map((e) => e.type)).toEqual([
      'usage.reported',
      'heartbeat.exited',
    ]);
    const ended = registered(A, { lastSeq: 8, startedAt: new Date(), ended: true });
    expect(planFlush([ended], [exited], events).plan.events.map((e) => e.type)).toEqual([
      'usage.reported',
    ]);
    expect(planFlush([], [exited], events).unknown).toEqual([A]);
  });

  it('plans in slices with a pause between two, to the same plan', async () => {
    const ids = [A, B, C, D, E];
    const counters = {
      inputTokens: 7,
      outputTokens: 1,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    };
    const locked = ids.map((id) => registered(id));
    const entries = [...ids.map((id) => buffered(id, { counters })), buffered(STRANGER)];
    let pauses = 0;
    const sliced = await planFlushInSlices(locked, entries, testEvents(), {
      sliceSize: 2,
      pause: () => {
        pauses += 1;
        return Promise.resolve();
      },
    });
    const whole = planFlush(locked, entries, testEvents());
    expect(pauses).toBe(2);
    expect(sliced.unknown).toEqual([STRANGER]);
    expect(sliced.plan.progress).toEqual(whole.plan.progress);
    expect(sliced.plan.liveness).toEqual(whole.plan.liveness);
    expect(sliced.plan.events.map((e) => [e.type, e.subject])).toEqual(
      whole.plan.events.map((e) => [e.type, e.subject]),
    );
  });

  it('maps an exit to completed, failed or stopped', () => {
    expect(exitOutcome({ code: 0, signal: null }, 'run')).toEqual({ outcome: 'completed' });
    expect(exitOutcome({ code: 2, signal: null }, 'run')).toEqual({
      outcome: 'failed',
      failureReason: 'nonzero_exit',
    });
    expect(exitOutcome({ code: null, signal: 'SIGKILL' }, 'run')).toEqual({
      outcome: 'failed',
      failureReason: 'killed',
    });
    expect(exitOutcome({ code: null, signal: 'SIGTERM' }, 'stop')).toEqual({ outcome: 'stopped' });
  });
});
