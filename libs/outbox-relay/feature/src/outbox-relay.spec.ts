import { type EventEnvelope } from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';
import {
  type EventPublisher,
  type OutboxRecord,
  type OutboxStore,
  type OutboxWakeUpSource,
  type OutgoingEvent,
  type PublishOutcome,
} from '@stratavore/messaging';
import { Registry } from 'prom-client';

import { OutboxRelay } from './outbox-relay';
import { PrometheusOutboxRelayMetrics } from './outbox-relay.metrics';
import { type OutboxRelayOptionsInput } from './outbox-relay.options';

/** A fake that implements only what a test allows; any other call throws (and fails the test). */
function strict<T extends object>(name: string, allowed: Partial<T>): T {
  return new Proxy(allowed as T, {
    get(target, property, receiver) {
      if (property === 'then') return undefined;
      const value = Reflect.get(target, property, receiver) as unknown;
      if (value === undefined) {
        return () => {
          throw new Error(`unexpected call ${name}.${String(property)}()`);
        };
      }
      return value;
    },
  });
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let nextPosition = 1;
function row(subject: string, attempts = 0): OutboxRecord {
  const position = String(nextPosition++);
  const eventId = `00000000-0000-4000-8000-${position.padStart(12, '0')}`;
  const envelope = {
    specversion: '1.0',
    id: eventId,
    source: 'spec',
    type: 'runner.launched',
    dataversion: 1,
    time: '2026-01-01T00:00:00.000Z',
    subject,
    correlationId: 'c',
    data: { position },
    signature: 'f'.repeat(64),
  } satisfies EventEnvelope;
  return {
    position,
    eventId,
    type: envelope.type,
    subject,
    payload: JSON.stringify(envelope),
    attempts,
    createdAt: new Date(0),
  };
}

const ok = (id: string): PublishOutcome => ({ messageId: id, ok: true });
const nacked = (id: string): PublishOutcome => ({
  messageId: id,
  ok: false,
  reason: 'nacked',
  detail: 'broker nacked the message',
});

const options: OutboxRelayOptionsInput = {
  batchSize: 10,
  window: 1,
  maxAttempts: 4,
  backoffBaseMs: 1_000,
  backoffMaxMs: 5_000,
  idlePollIntervalMs: 60_000,
  publishTimeoutMs: 500,
};

/** Store fake serving scripted claims; everything it is told is recorded in `log`. */
function scriptedStore(
  batches: OutboxRecord[][],
  extra: Partial<OutboxStore> = {},
  batchSize = options.batchSize,
) {
  const log: string[] = [];
  const store = strict<OutboxStore>('store', {
    claimBatch: (limit) => {
      expect(limit).toBe(batchSize);
      log.push('claim');
      return Promise.resolve(batches.shift() ?? []);
    },
    markPublished: (positions) => {
      log.push(`published ${positions.join(',')}`);
      return Promise.resolve();
    },
    markFailed: (position, error, at) => {
      log.push(`failed ${position} ${error} until ${at.toISOString()}`);
      return Promise.resolve();
    },
    release: (positions) => {
      log.push(`released ${positions.join(',')}`);
      return Promise.resolve();
    },
    ...extra,
  });
  return { store, log };
}

function publisherAnswering(answer: (messages: readonly OutgoingEvent[]) => PublishOutcome[]) {
  const sent: OutgoingEvent[][] = [];
  const publisher = strict<EventPublisher>('publisher', {
    publishBatch: (messages, opts) => {
      expect(opts).toEqual({ timeoutMs: 500 });
      sent.push([...messages]);
      return Promise.resolve(answer(messages));
    },
  });
  return { publisher, sent };
}

describe('OutboxRelay', () => {
  const clock = new ManualClock('2026-03-01T00:00:00Z');

  it('marks published only what the broker confirmed, and retries the rest with backoff', async () => {
    const rows = [row('a'), row('b'), row('c', 2)];
    const { store, log } = scriptedStore([rows]);
    const { publisher, sent } = publisherAnswering((m) => [
      ok(m[0]!.messageId),
      nacked(m[1]!.messageId),
      { messageId: m[2]!.messageId, ok: false, reason: 'timeout' },
    ]);
    const relay = new OutboxRelay({ store, publisher, clock, options });

    const report = await relay.relayBatch();

    expect(sent[0]!.map((m) => m.messageId)).toEqual(rows.map((r) => r.eventId));
    expect(sent[0]![0]).toMatchObject({ routingKey: 'runner.launched' });
    // The stored payload goes out byte for byte: never parsed nor re-serialized.
    expect(sent[0]![0]!.body.toString()).toBe(rows[0]!.payload);
    expect(log).toEqual([
      'claim',
      `published ${rows[0]!.position}`,
      `failed ${rows[1]!.position} nacked: broker nacked the message until 2026-03-01T00:00:01.000Z`,
      // third attempt: 1 s x 2^2, capped at 5 s
      `failed ${rows[2]!.position} timeout until 2026-03-01T00:00:04.000Z`,
    ]);
    expect(report).toEqual({ claimed: 3, published: 1, retried: 2, deadLettered: 0, released: 0 });
  });

  it('caps the backoff and counts a missing outcome or a rejected publish as a failure', async () => {
    const rows = [row('a', 2), row('b')];
    const { store, log } = scriptedStore([rows, [row('x')]]);
    let calls = 0;
    const publisher = strict<EventPublisher>('publisher', {
      publishBatch: () =>
        ++calls === 1 ? Promise.resolve([]) : Promise.reject(new Error('socket gone')),
    });
    const relay = new OutboxRelay({
      store,
      publisher,
      clock,
      options: { ...options, backoffMaxMs: 3_000, publishTimeoutMs: 500 },
    });
    await relay.relayBatch();
    await relay.relayBatch();
    expect(log.slice(1, 3)).toEqual([
      `failed ${rows[0]!.position} timeout: the publisher returned no outcome for this message until 2026-03-01T00:00:03.000Z`,
      `failed ${rows[1]!.position} timeout: the publisher returned no outcome for this message until 2026-03-01T00:00:01.000Z`,
    ]);
    expect(log[4]).toMatch(/^failed \d+ disconnected: socket gone until/);
  });

  it('dead-letters a row at the attempt limit and lets its subject move on', async () => {
    const poison = row('s', 3);
    const after = row('s');
    const deadLettered: string[] = [];
    const { store, log } = scriptedStore([[poison, after]], {
      deadLetter: (position, error) => {
        deadLettered.push(`${position} ${error}`);
        return Promise.resolve();
      },
    });
    const { publisher } = publisherAnswering((m) => [
      { messageId: m[0]!.messageId, ok: false, reason: 'returned', detail: 'no queue bound' },
      ok(m[1]!.messageId),
    ]);
    const registry = new Registry();
    const metrics = new PrometheusOutboxRelayMetrics(registry);
    const relay = new OutboxRelay({ store, publisher, clock, options, metrics });

    expect(await relay.relayBatch()).toMatchObject({ published: 1, deadLettered: 1 });
    expect(deadLettered).toEqual([`${poison.position} returned: no queue bound`]);
    expect(log).toEqual(['claim', `published ${after.position}`]);
    const text = await registry.metrics();
    expect(text).toContain('stratavore_outbox_dead_lettered_total 1');
    expect(text).toContain('stratavore_outbox_published_total 1');
    expect(text).toContain('stratavore_outbox_publish_failures_total{reason="returned"} 1');
    // One batch claimed, published and settled: one observation of its latency.
    expect(text).toContain('stratavore_outbox_batch_duration_seconds_count 1');
  });

  it('never marks a later row of a subject ahead of an earlier one that failed', async () => {
    const [a1, b1, a2, a3, b2] = [row('A'), row('B'), row('A'), row('A'), row('B')];
    const { store, log } = scriptedStore([[a1, b1, a2, a3, b2]]);
    // Everything confirmed but A1.
    const { publisher } = publisherAnswering((m) =>
      m.map((message) =>
        message.messageId === a1.eventId ? nacked(message.messageId) : ok(message.messageId),
      ),
    );
    const relay = new OutboxRelay({ store, publisher, clock, options });

    expect(await relay.relayBatch()).toEqual({
      claimed: 5,
      published: 2,
      retried: 1,
      deadLettered: 0,
      released: 2,
    });
    expect(log).toEqual([
      'claim',
      `published ${b1.position},${b2.position}`,
      `failed ${a1.position} nacked: broker nacked the message until 2026-03-01T00:00:01.000Z`,
      `released ${a2.position},${a3.position}`,
    ]);
  });

  it('drains on stop: the batch in flight is confirmed and marked, nothing new is claimed', async () => {
    const batch = [row('a'), row('b')];
    const confirm = deferred<PublishOutcome[]>();
    let stopped = false;
    const { store, log } = scriptedStore([batch], {
      claimBatch: () => {
        if (stopped) throw new Error('claimed after stop()');
        log.push('claim');
        return Promise.resolve(log.length === 1 ? batch : []);
      },
    });
    const publisher = strict<EventPublisher>('publisher', {
      publishBatch: () => {
        log.push('publish');
        return confirm.promise;
      },
    });
    const relay = new OutboxRelay({ store, publisher, clock, options });
    await relay.start();
    await until(() => log.includes('publish'));

    const stopping = relay.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    confirm.resolve(batch.map((r) => ok(r.eventId)));
    await stopping;
    expect(log).toEqual([
      'claim',
      'publish',
      `published ${batch[0]!.position},${batch[1]!.position}`,
    ]);
    expect(relay.isRunning()).toBe(false);
  });

  it('wakes at once on a notification and collapses wake-ups that arrive while busy', async () => {
    let onWake: (() => void) | undefined;
    const wakeUps = strict<OutboxWakeUpSource>('wakeUps', {
      start: (callback) => {
        onWake = callback;
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
    });
    const claims: Array<Deferred<OutboxRecord[]>> = [];
    const store = strict<OutboxStore>('store', {
      claimBatch: () => {
        const next = deferred<OutboxRecord[]>();
        claims.push(next);
        return next.promise;
      },
    });
    const publisher = strict<EventPublisher>('publisher', {});
    const relay = new OutboxRelay({ store, publisher, clock, wakeUps, options });
    await relay.start();

    await until(() => claims.length === 1);
    claims[0]!.resolve([]); // nothing yet: the worker sleeps for the 60 s poll interval
    onWake!();
    await until(() => claims.length === 2);
    for (let i = 0; i < 5; i++) onWake!(); // while the claim is in flight
    claims[1]!.resolve([]);
    await until(() => claims.length === 3);
    claims[2]!.resolve([]);
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(claims).toHaveLength(3);
    await relay.stop();
  });

  it('keeps polling after a store failure and reports the backlog at scrape time', async () => {
    const registry = new Registry();
    const metrics = new PrometheusOutboxRelayMetrics(registry);
    let claims = 0;
    const store = strict<OutboxStore>('store', {
      claimBatch: () =>
        ++claims === 1 ? Promise.reject(new Error('connection refused')) : Promise.resolve([]),
      backlog: () => Promise.resolve(42),
      oldestUnpublishedAge: () => Promise.resolve(1.5),
    });
    const errors: string[] = [];
    const relay = new OutboxRelay({
      store,
      publisher: strict<EventPublisher>('publisher', {}),
      clock,
      options: { ...options, idlePollIntervalMs: 5 },
      metrics,
      logger: { warn: () => undefined, error: (message) => errors.push(message) },
    });
    await relay.start();
    await until(() => claims >= 2);
    await relay.stop();
    expect(errors).toEqual(['outbox relay batch failed: connection refused']);
    const text = await registry.metrics();
    expect(text).toContain('stratavore_outbox_backlog 42');
    expect(text).toContain('stratavore_outbox_oldest_unpublished_age_seconds 1.5');
  });

  describe('pipelining', () => {
    /** A publisher whose batches are confirmed when the test says so. */
    function manualPublisher() {
      const batches: Array<{ ids: string[]; confirm: Deferred<PublishOutcome[]> }> = [];
      const publisher = strict<EventPublisher>('publisher', {
        publishBatch: (messages) => {
          const confirm = deferred<PublishOutcome[]>();
          batches.push({ ids: messages.map((m) => m.messageId), confirm });
          return confirm.promise;
        },
      });
      return { publisher, batches };
    }

    it('publishes the next batches before the first is confirmed, and settles them in claim order', async () => {
      const first = [row('A'), row('B')];
      const second = [row('A'), row('C')];
      const { store, log } = scriptedStore([first, second], {}, 2);
      const { publisher, batches } = manualPublisher();
      const relay = new OutboxRelay({
        store,
        publisher,
        clock,
        options: { ...options, batchSize: 2, window: 2 },
      });
      await relay.start();
      await until(() => batches.length === 2);
      // Both batches are out, including A's second event: this relay has A's first in flight.
      expect(batches.map((b) => b.ids)).toEqual([
        first.map((r) => r.eventId),
        second.map((r) => r.eventId),
      ]);
      expect(log).toEqual(['claim', 'claim']); // the window is full: no third claim yet

      batches[1]!.confirm.resolve(second.map((r) => ok(r.eventId)));
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(log).toEqual(['claim', 'claim']); // the second batch waits for the first

      batches[0]!.confirm.resolve(first.map((r) => ok(r.eventId)));
      const marks = () => log.filter((line) => line.startsWith('published'));
      await until(() => marks().length === 2);
      expect(marks()).toEqual([
        `published ${first[0]!.position},${first[1]!.position}`,
        `published ${second[0]!.position},${second[1]!.position}`,
      ]);
      // Room in the window again: the relay claims on.
      await until(() => log.filter((line) => line === 'claim').length === 3);
      await relay.stop();
    });

    it('holds back a subject in every batch claimed before its failure was recorded', async () => {
      const [a1, b1, a2, c1, a3, a4] = [row('A'), row('B'), row('A'), row('C'), row('A'), row('A')];
      const a1Retry = { ...a1, attempts: 1 };
      const failureRecorded = deferred<void>();
      const { store, log } = scriptedStore(
        [[a1, b1], [a2, c1], [a3], [a4], [a1Retry]],
        {
          markFailed: (position, error, at) => {
            log.push(`failed ${position} ${error} until ${at.toISOString()}`);
            return failureRecorded.promise;
          },
        },
        2,
      );
      const { publisher, batches } = manualPublisher();
      const relay = new OutboxRelay({
        store,
        publisher,
        clock,
        options: { ...options, batchSize: 2, window: 4 },
      });
      await relay.start();
      await until(() => batches.length === 3); // the third batch is short: the relay idles
      // Every message confirmed but A1, which the broker nacked.
      batches[2]!.confirm.resolve([ok(a3.eventId)]);
      batches[1]!.confirm.resolve([ok(a2.eventId), ok(c1.eventId)]);
      batches[0]!.confirm.resolve([nacked(a1.eventId), ok(b1.eventId)]);
      await until(() => log.some((line) => line.startsWith('failed')));

      // Claimed while A1's failure is being recorded: the store still sees A1 as this relay's.
      relay.wake();
      await until(() => batches.length === 4);
      batches[3]!.confirm.resolve([ok(a4.eventId)]);
      failureRecorded.resolve();
      await until(() => log.filter((line) => line.startsWith('released')).length === 3);
      expect(log.slice(3)).toEqual([
        `published ${b1.position}`,
        `failed ${a1.position} nacked: broker nacked the message until 2026-03-01T00:00:01.000Z`,
        'claim',
        `published ${c1.position}`,
        `released ${a2.position}`,
        `released ${a3.position}`,
        `released ${a4.position}`,
      ]);

      // The retry comes in a batch claimed after the failure was recorded: it settles normally.
      relay.wake();
      await until(() => batches.length === 5);
      batches[4]!.confirm.resolve([ok(a1.eventId)]);
      await until(() => log.includes(`published ${a1.position}`));
      await relay.stop();
    });

    it('retries a failed settling write while running and keeps the batches behind it waiting', async () => {
      const first = [row('A')];
      const second = [row('A')];
      let failures = 1;
      const errors: string[] = [];
      const { store, log } = scriptedStore(
        [first, second],
        {
          markPublished: (positions) => {
            if (failures-- > 0) return Promise.reject(new Error('connection reset'));
            log.push(`published ${positions.join(',')}`);
            return Promise.resolve();
          },
        },
        1,
      );
      const { publisher, batches } = manualPublisher();
      const relay = new OutboxRelay({
        store,
        publisher,
        clock,
        options: { ...options, batchSize: 1, window: 2, idlePollIntervalMs: 5 },
        logger: { warn: () => undefined, error: (message) => errors.push(message) },
      });
      await relay.start();
      await until(() => batches.length === 2);
      batches[1]!.confirm.resolve([ok(second[0]!.eventId)]);
      batches[0]!.confirm.resolve([ok(first[0]!.eventId)]);
      await until(() => log.filter((line) => line.startsWith('published')).length === 2);
      expect(log.filter((line) => line.startsWith('published'))).toEqual([
        `published ${first[0]!.position}`,
        `published ${second[0]!.position}`,
      ]);
      expect(errors).toEqual(['outbox relay could not settle a batch, retrying: connection reset']);
      await relay.stop();
    });
  });

  it('refuses nonsense options', () => {
    const store = strict<OutboxStore>('store', {});
    const publisher = strict<EventPublisher>('publisher', {});
    expect(
      () =>
        new OutboxRelay({
          store,
          publisher,
          clock,
          options: { backoffBaseMs: 10, backoffMaxMs: 1 },
        }),
    ).toThrow(/backoffMaxMs/);
    expect(() => new OutboxRelay({ store, publisher, clock, options: { batchSize: 0 } })).toThrow();
  });
});
