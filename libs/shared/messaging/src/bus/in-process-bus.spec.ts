import { currentCorrelationId } from '@stratavore/logging';
import { waitFor } from '@stratavore/testing';

import { BusErrorCode, RemoteRequestError } from './bus.errors';
import { retryDelayMs, topicMatches } from './bus.policy';
import { type DeliveredEvent, type HandlerResult } from './bus.ports';
import {
  forgedPing,
  ping,
  pingEnvelope,
  TEST_SIGNING_KEY,
  testCatalog,
  toOutgoing,
} from './bus.test-support';
import { InProcessBus } from './in-process-bus';

describe('topicMatches', () => {
  it.each([
    ['runner.*', 'runner.failed', true],
    ['runner.*', 'runner.failed.late', false],
    ['runner.#', 'runner', true],
    ['runner.#', 'runner.a.b', true],
    ['#', 'anything.at.all', true],
    ['*.failed', 'runner.failed', true],
    ['#.failed', 'a.b.failed', true],
    ['budget.exceeded', 'budget.warning', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.c', false],
  ])('%s vs %s -> %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt up to the cap', () => {
    const backoff = { baseMs: 100, maxMs: 500 };
    expect([1, 2, 3, 4, 40].map((a) => retryDelayMs(a, backoff))).toEqual([
      100, 200, 400, 500, 500,
    ]);
  });
});

describe('InProcessBus', () => {
  let bus: InProcessBus;

  beforeEach(async () => {
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      catalog: testCatalog,
      retryBackoff: { baseMs: 1, maxMs: 5 },
      requestTimeoutMs: 1_000,
    });
    await bus.connect();
  });

  afterEach(async () => {
    await bus.close();
  });

  function collect(results: HandlerResult[] = []) {
    const seen: DeliveredEvent[] = [];
    const handler = (event: DeliveredEvent) => {
      seen.push(event);
      return Promise.resolve(results.shift() ?? 'ack');
    };
    return { seen, handler };
  }

  it('delivers to every consumer whose pattern matches, in publish order per consumer', async () => {
    const a = collect();
    const b = collect();
    await bus.subscribe({ consumer: 'a', patterns: ['test.*'] }, a.handler);
    await bus.subscribe({ consumer: 'b', patterns: ['test.ponged'] }, b.handler);
    const messages = [ping(1), toOutgoing(pingEnvelope(2, 'test.ponged')), ping(3)];
    const outcomes = await bus.publishBatch(messages);
    expect(outcomes).toEqual(messages.map((m) => ({ messageId: m.messageId, ok: true })));
    await waitFor(() => a.seen.length === 3 && b.seen.length === 1);
    expect(a.seen.map((e) => (e.envelope.data as { n: number }).n)).toEqual([1, 2, 3]);
    expect(b.seen[0]!.routingKey).toBe('test.ponged');
    expect(b.seen[0]!.attempt).toBe(1);
  });

  it('runs handlers and responders with the correlation id in scope', async () => {
    const scopes: Array<string | undefined> = [];
    await bus.subscribe({ consumer: 'a', patterns: ['#'] }, () => {
      scopes.push(currentCorrelationId());
      return Promise.resolve('ack');
    });
    await bus.respond('svc', () => Promise.resolve(currentCorrelationId()));
    await bus.publishBatch([ping(1), ping(2)]);
    expect(scopes).toEqual(['c-1', 'c-2']);
    await expect(bus.request('svc', 'x.get', {}, { correlationId: 'corr-9' })).resolves.toBe(
      'corr-9',
    );
  });

  it('confirms a message no queue takes and keeps it aside, like an alternate exchange', async () => {
    const a = collect();
    await bus.subscribe({ consumer: 'a', patterns: ['test.ponged'] }, a.handler);
    const [outcome] = await bus.publishBatch([ping(1)]);
    expect(outcome).toMatchObject({ ok: true });
    expect(bus.unroutedMessages()).toEqual([
      { messageId: outcome!.messageId, routingKey: 'test.pinged' },
    ]);
    expect(a.seen).toHaveLength(0);
  });

  it('refuses messages while a consumer has no subscription, so the outbox keeps them', async () => {
    const first = collect();
    const subscription = await bus.subscribe(
      { consumer: 'a', patterns: ['test.*'] },
      first.handler,
    );
    await subscription.cancel();
    const [refused] = await bus.publishBatch([ping(1)]);
    expect(refused).toMatchObject({ ok: false, reason: 'disconnected' });
    expect(refused).toMatchObject({ detail: 'consumer a has no subscription' });
    expect(bus.unroutedMessages()).toEqual([]);
    const second = collect();
    await bus.subscribe({ consumer: 'a', patterns: ['test.*'] }, second.handler);
    const [confirmed] = await bus.publishBatch([ping(2)]);
    expect(confirmed).toMatchObject({ ok: true });
    expect(second.seen.map((e) => (e.envelope.data as { n: number }).n)).toEqual([2]);
    expect(first.seen).toHaveLength(0);
  });

  it('confirms a message only once every durable consumer is done with it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fast = collect();
    await bus.subscribe({ consumer: 'fast', patterns: ['#'] }, fast.handler);
    await bus.subscribe({ consumer: 'slow', patterns: ['#'] }, async () => {
      await gate;
      return 'ack';
    });
    let outcomes: unknown = null;
    const publishing = bus.publishBatch([ping(1)]).then((o) => (outcomes = o));
    await waitFor(() => fast.seen.length === 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes).toBeNull();
    release();
    await publishing;
    expect(outcomes).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('confirms a message its consumer dead-letters, and refuses none for a retry that succeeds', async () => {
    const { handler } = collect(['retry', 'ack', 'dead-letter']);
    await bus.subscribe({ consumer: 'a', patterns: ['test.*'] }, handler);
    const outcomes = await bus.publishBatch([ping(1), ping(2)]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(bus.deadLetters('a')).toHaveLength(1);
  });

  it('joins a publish of a message it still holds instead of delivering it twice', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    await bus.subscribe({ consumer: 'a', patterns: ['#'] }, async (event) => {
      seen.push(event.envelope.id);
      await gate;
      return 'ack';
    });
    const message = ping(1);
    const first = bus.publishBatch([message]);
    await waitFor(() => seen.length === 1);
    const again = bus.publishBatch([message]);
    release();
    expect(await first).toEqual([{ messageId: message.messageId, ok: true }]);
    expect(await again).toEqual([{ messageId: message.messageId, ok: true }]);
    expect(seen).toHaveLength(1);
  });

  it('reports a timeout when the consumer takes longer than the publish may wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe({ consumer: 'a', patterns: ['#'] }, async () => {
      await gate;
      return 'ack';
    });
    const [outcome] = await bus.publishBatch([ping(1)], { timeoutMs: 20 });
    release();
    expect(outcome).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('holds publishes until open() when asked to, so late subscribers still get them', async () => {
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      catalog: testCatalog,
      holdUntilOpen: true,
    });
    await bus.connect();
    const publishing = bus.publishBatch([ping(1)]);
    const { seen, handler } = collect();
    await bus.subscribe({ consumer: 'late', patterns: ['#'] }, handler);
    bus.open();
    expect(await publishing).toEqual([expect.objectContaining({ ok: true })]);
    expect(seen).toHaveLength(1);
    expect(bus.unroutedMessages()).toEqual([]);
  });

  it('confirms at once for a transient queue and drops a delivery it fails', async () => {
    const attempts: number[] = [];
    let next = false;
    await bus.subscribe({ consumer: 'view', patterns: ['#'], transient: true }, (event) => {
      if ((event.envelope.data as { n: number }).n === 2) {
        next = true;
        return Promise.resolve('ack');
      }
      attempts.push(event.attempt);
      return Promise.resolve('retry');
    });
    expect(await bus.publishBatch([ping(1), ping(2)])).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: true }),
    ]);
    // One message at a time: once the next one is delivered, the failed one was settled.
    await waitFor(() => next);
    expect(bus.retriesPending('view')).toBe(0);
    expect(attempts).toEqual([1]);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('retries with increasing attempts, then dead-letters after maxAttempts', async () => {
    const attempts: number[] = [];
    await bus.subscribe({ consumer: 'a', patterns: ['test.*'], maxAttempts: 3 }, (event) => {
      attempts.push(event.attempt);
      if (event.attempt === 2) return Promise.reject(new Error('flaky'));
      return Promise.resolve('retry');
    });
    const message = ping(1);
    await bus.publishBatch([message]);
    const [dead] = await waitFor(() => bus.deadLetters('a').length === 1 && bus.deadLetters('a'));
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toMatchObject({
      consumer: 'a',
      messageId: message.messageId,
      attempt: 3,
      reason: 'max_attempts',
    });
  });

  it('dead-letters on request and keeps going with the next message', async () => {
    const { seen, handler } = collect(['dead-letter', 'ack']);
    await bus.subscribe({ consumer: 'a', patterns: ['test.*'] }, handler);
    await bus.publishBatch([ping(1), ping(2)]);
    await waitFor(() => seen.length === 2);
    expect(bus.deadLetters()).toEqual([
      expect.objectContaining({ reason: 'rejected', attempt: 1 }),
    ]);
  });

  it('dead-letters invalid envelopes without calling the handler', async () => {
    const warnings: string[] = [];
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      catalog: testCatalog,
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    await bus.connect();
    const { seen, handler } = collect();
    await bus.subscribe({ consumer: 'a', patterns: ['#'] }, handler);
    await bus.publishBatch([
      forgedPing(1),
      { routingKey: 'test.pinged', messageId: 'junk', body: Buffer.from('{nope') },
      ping(3),
    ]);
    await waitFor(() => seen.length === 1);
    expect(bus.deadLetters().map((d) => [d.reason, d.detail?.split(' ')[0]])).toEqual([
      ['invalid', 'signature'],
      ['invalid', 'not'],
    ]);
    expect(warnings).toHaveLength(2);
  });

  it('cancel() waits for the handler in flight and refuses what was still queued', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const subscription = await bus.subscribe({ consumer: 'a', patterns: ['#'] }, async () => {
      await gate;
      finished = true;
      return 'ack';
    });
    const publishing = bus.publishBatch([ping(1), ping(2)]);
    await waitFor(() => bus.queueDepth('a') === 1);
    const cancelled = subscription.cancel();
    release();
    await cancelled;
    expect(finished).toBe(true);
    expect(bus.queueDepth('a')).toBe(0);
    expect((await publishing).map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'disconnected']);
  });

  it('close() refuses messages waiting for a retry', async () => {
    bus = new InProcessBus({
      signingKey: TEST_SIGNING_KEY,
      catalog: testCatalog,
      retryBackoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await bus.connect();
    const attempts: number[] = [];
    await bus.subscribe({ consumer: 'a', patterns: ['#'] }, (event) => {
      attempts.push(event.attempt);
      return Promise.resolve('retry');
    });
    const publishing = bus.publishBatch([ping(1)]);
    await waitFor(() => attempts.length === 1);
    await bus.close();
    expect(await publishing).toEqual([
      expect.objectContaining({ ok: false, reason: 'disconnected' }),
    ]);
    expect(attempts).toEqual([1]);
  });

  it('answers requests by service name and carries remote errors with their code', async () => {
    await bus.respond('runner-manager', (pattern, payload, meta) => {
      if (pattern === 'runner.launch') {
        return Promise.reject(
          Object.assign(new Error('quota reached'), { code: 'QUOTA', details: { max: 1 } }),
        );
      }
      return Promise.resolve({ pattern, payload, correlationId: meta.correlationId });
    });
    await expect(
      bus.request('runner-manager', 'runner.get', { id: 1 }, { correlationId: 'c-1' }),
    ).resolves.toEqual({ pattern: 'runner.get', payload: { id: 1 }, correlationId: 'c-1' });
    const error = await bus.request('runner-manager', 'runner.launch', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteRequestError);
    expect(error).toMatchObject({ code: 'QUOTA', details: { max: 1 }, pattern: 'runner.launch' });
  });

  it('fails requests with no responder or past their timeout', async () => {
    await expect(bus.request('nobody', 'x.y', {})).rejects.toMatchObject({
      code: BusErrorCode.NoResponder,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bus.respond('slow', async () => {
      await gate;
      return 1;
    });
    const error = await bus
      .request('slow', 'q.get', {}, { timeoutMs: 20 })
      .catch((e: unknown) => e);
    release();
    expect(error).toMatchObject({ code: BusErrorCode.RequestTimeout });
    expect((error as Error).message).toContain('slow q.get');
  });

  it('reports disconnected after close', async () => {
    await bus.close();
    const [outcome] = await bus.publishBatch([ping(1)]);
    expect(outcome).toMatchObject({ ok: false, reason: 'disconnected' });
    expect(bus.isConnected()).toBe(false);
  });
});
