import { type FlushPlan, type RegisteredRunner } from '@stratavore/heartbeat-ingest-data-access';

import { type FlushStore, HeartbeatBatchWriter, type Scheduler } from './heartbeat-batch-writer';
import { HeartbeatBuffer } from './heartbeat-buffer';
import { exitOutcome, planFlush } from './heartbeat-flush-planner';
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

/** A strict fake store: records every flush and fails when told to. */
class FakeFlushStore implements FlushStore {
  readonly flushes: Array<{ ids: readonly string[]; plan: FlushPlan }> = [];
  failNext = false;
  constructor(private readonly rows: RegisteredRunner[]) {}
  flush(ids: readonly string[], decide: (locked: RegisteredRunner[]) => FlushPlan) {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('database down'));
    }
    const plan = decide(this.rows.filter((r) => ids.includes(r.runnerId)));
    this.flushes.push({ ids, plan });
    return Promise.resolve(plan);
  }
}

const silentLogger = { warn: () => undefined, error: () => undefined };

function writer(store: FlushStore, scheduler: Scheduler, maxEntries = 100) {
  return new HeartbeatBatchWriter({
    store,
    events: testEvents(),
    policy: { flushIntervalMs: 1_000, maxEntries },
    scheduler,
    metrics: heartbeatIngestMetrics(),
    logger: silentLogger,
  });
}

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
    expect(store.flushes).toHaveLength(1);
    await w.accept(buffered(A, { seq: 2, status: 'exited', exit: { code: 0, signal: null } }), {
      durable: true,
    });
    expect(store.flushes).toHaveLength(2);
    await w.accept(buffered(B, { seq: 2 }));
    await w.stop();
    expect(store.flushes).toHaveLength(3);
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
