import { currentCorrelationId } from '@stratavore/logging';
import { requireAmqpUrl, TcpProxy, uniqueName, waitFor } from '@stratavore/testing';

import { AmqpAdmin } from './amqp-admin.test-support';
import { BusError, BusErrorCode, RemoteRequestError } from './bus.errors';
import { type DeliveredEvent, type HandlerResult } from './bus.ports';
import { forgedPing, ping, TEST_SIGNING_KEY, testCatalog } from './bus.test-support';
import { consumerQueues, RabbitMqBus, type RabbitMqBusOptions } from './rabbitmq-bus';

const url = requireAmqpUrl();

describe('RabbitMqBus', () => {
  let admin: AmqpAdmin;
  let exchange: string;
  let dlx: string;
  let unrouted: string;
  const buses: RabbitMqBus[] = [];
  const queues: string[] = [];

  function makeBus(overrides: Partial<RabbitMqBusOptions> = {}): RabbitMqBus {
    const bus = new RabbitMqBus({
      url,
      exchange,
      deadLetterExchange: dlx,
      unroutedExchange: unrouted,
      signingKey: TEST_SIGNING_KEY,
      serviceName: 'bus-test',
      catalog: testCatalog,
      retryBackoff: { baseMs: 20, maxMs: 200 },
      publishTimeoutMs: 10_000,
      closeTimeoutMs: 5_000,
      ...overrides,
    });
    buses.push(bus);
    return bus;
  }

  function consumerName(): string {
    const consumer = uniqueName('bus-test');
    const names = consumerQueues(consumer);
    queues.push(names.queue, names.retry, names.deadLetter);
    return consumer;
  }

  beforeAll(async () => {
    admin = await AmqpAdmin.open(url);
  });

  beforeEach(() => {
    exchange = uniqueName('bus-test.events');
    dlx = uniqueName('bus-test.dlx');
    unrouted = uniqueName('bus-test.unrouted');
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await admin.deleteQueues(...queues.splice(0), unrouted);
    await admin.deleteExchanges(exchange, dlx, unrouted);
  });

  afterAll(async () => {
    await admin.close();
  });

  describe('connect', () => {
    it('rejects after its deadline naming the URL without the password', async () => {
      const proxy = await TcpProxy.start(url);
      const port = proxy.port;
      await proxy.close(); // a port nobody listens on
      const bus = makeBus({
        url: `amqp://guest:s3cret@127.0.0.1:${port}`,
        connectTimeoutMs: 500,
      });
      const error = await bus.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BusError);
      expect((error as BusError).code).toBe(BusErrorCode.ConnectFailed);
      expect((error as Error).message).toContain(`amqp://guest:***@127.0.0.1:${port}`);
      expect((error as Error).message).not.toContain('s3cret');
      expect(bus.isConnected()).toBe(false);
    });
  });

  describe('publishBatch', () => {
    it('reports ok for every message the broker confirmed', async () => {
      const bus = makeBus();
      await bus.connect();
      expect(bus.isConnected()).toBe(true);
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, 'test.#');
      const messages = Array.from({ length: 50 }, (_, i) => ping(i));
      const outcomes = await bus.publishBatch(messages);
      expect(outcomes).toEqual(messages.map((m) => ({ messageId: m.messageId, ok: true })));
      await waitFor(async () => (await admin.messageCount(queue)) === 50, {
        description: '50 messages',
      });
      const first = await admin.get(queue);
      expect(first?.properties).toMatchObject({
        messageId: messages[0]!.messageId,
        contentType: 'application/json',
        deliveryMode: 2,
      });
    });

    it('keeps an unroutable message in the unrouted queue (alternate exchange), confirmed', async () => {
      const bus = makeBus({ unroutedMaxLength: 2 });
      await bus.connect();
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, 'test.pinged');
      const unroutable = [ping(1, 'nobody.listens'), ping(2, 'nobody.listens'), ping(3, 'x.y')];
      const outcomes = await bus.publishBatch([ping(0), ...unroutable]);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(await admin.messageCount(queue)).toBe(1);
      // Bounded: the oldest unrouted message was dropped to keep the last two.
      await waitFor(async () => (await admin.messageCount(unrouted)) === 2, {
        description: 'two messages kept in the unrouted queue',
      });
      const kept = await admin.get(unrouted);
      expect(kept?.properties.messageId).toBe(unroutable[1]!.messageId);
      expect(kept?.fields.routingKey).toBe('nobody.listens');
    });

    it('reports an unroutable message as returned, next to routable ones', async () => {
      const bus = makeBus({ unroutedExchange: null });
      await bus.connect();
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, 'test.pinged');
      const routable = ping(1);
      const unroutable = ping(2, 'nobody.listens');
      const outcomes = await bus.publishBatch([routable, unroutable, ping(3)]);
      expect(outcomes[0]).toEqual({ messageId: routable.messageId, ok: true });
      expect(outcomes[1]).toMatchObject({
        messageId: unroutable.messageId,
        ok: false,
        reason: 'returned',
      });
      expect(outcomes[2]?.ok).toBe(true);
    });

    it('puts successive batches on the wire in call order, never interleaved', async () => {
      // Few confirms outstanding at once: the first batch is still writing when the second comes.
      const bus = makeBus({ maxInFlight: 20 });
      await bus.connect();
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, 'test.#');
      const first = Array.from({ length: 200 }, (_, i) => ping(i));
      const second = Array.from({ length: 200 }, (_, i) => ping(200 + i));
      const outcomes = await Promise.all([bus.publishBatch(first), bus.publishBatch(second)]);
      expect(outcomes.flat().every((o) => o.ok)).toBe(true);
      const order: string[] = [];
      for (let message = await admin.get(queue); message; message = await admin.get(queue)) {
        order.push(message.properties.messageId as string);
      }
      expect(order).toEqual([...first, ...second].map((m) => m.messageId));
    });

    it('publishes 20,000 small messages with confirms quickly', async () => {
      const bus = makeBus();
      await bus.connect();
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, '#');
      const messages = Array.from({ length: 20_000 }, (_, i) => ping(i));
      const started = process.hrtime.bigint();
      const outcomes = await bus.publishBatch(messages);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rate = Math.round(messages.length / seconds);
      process.stdout.write(
        `publishBatch: 20000 confirmed messages in ${seconds.toFixed(3)} s = ${rate} msg/s\n`,
      );
      expect(outcomes.every((o) => o.ok)).toBe(true);
      // A loose floor: the broker shares two cores with everything else; the rate is printed.
      expect(rate).toBeGreaterThan(1_000);
    });

    it('reports timeout when confirms stop arriving', async () => {
      const proxy = await TcpProxy.start(url);
      try {
        const bus = makeBus({
          url: proxy.rewrite(url),
          heartbeatIntervalInSeconds: 60,
          closeTimeoutMs: 500,
        });
        await bus.connect();
        proxy.stallServerToClient();
        const messages = [ping(1), ping(2), ping(3)];
        const outcomes = await bus.publishBatch(messages, { timeoutMs: 300 });
        expect(outcomes).toEqual(
          messages.map((m) => ({
            messageId: m.messageId,
            ok: false,
            reason: 'timeout',
            detail: 'no broker confirm within 300 ms',
          })),
        );
      } finally {
        await proxy.close();
      }
    });

    it('reports channel_closed when the broker closes the channel, then publishes again', async () => {
      const bus = makeBus();
      await bus.connect();
      // Publishing to an exchange that is gone is a channel error (404): the broker closes the
      // channel; the bus recycles its connection, whose new channel declares the exchange again.
      await admin.deleteExchanges(exchange);
      const [outcome] = await bus.publishBatch([ping(1)]);
      expect(outcome).toMatchObject({ ok: false, reason: 'channel_closed' });
      await waitFor(() => bus.isConnected(), { description: 'the bus to reconnect' });
      const queue = uniqueName('bus-test.sink');
      queues.push(queue);
      await admin.declareQueue(queue, exchange, 'test.#');
      const [again] = await bus.publishBatch([ping(2)]);
      expect(again).toMatchObject({ ok: true });
      expect(await admin.messageCount(queue)).toBe(1);
    });

    it('reports disconnected for confirms outstanding when the connection drops, then recovers', async () => {
      const proxy = await TcpProxy.start(url);
      try {
        const bus = makeBus({
          url: proxy.rewrite(url),
          closeTimeoutMs: 1_000,
          unroutedExchange: null,
        });
        await bus.connect();
        const messages = Array.from({ length: 20_000 }, (_, i) => ping(i, 'unbound.key'));
        const pending = bus.publishBatch(messages);
        setImmediate(() => proxy.cut());
        const outcomes = await pending;
        expect(outcomes).toHaveLength(messages.length);
        const failed = outcomes.filter((o) => !o.ok);
        expect(failed.length).toBeGreaterThan(0);
        expect(new Set(failed.map((o) => !o.ok && o.reason))).toEqual(new Set(['disconnected']));
        // Every outcome belongs to its message, in order.
        expect(outcomes.map((o) => o.messageId)).toEqual(messages.map((m) => m.messageId));

        proxy.restore();
        await waitFor(() => bus.isConnected(), { description: 'reconnect through the proxy' });
        const [after] = await bus.publishBatch([ping(1, 'unbound.key')]);
        expect(after).toMatchObject({ ok: false, reason: 'returned' });
      } finally {
        await proxy.close();
      }
    });
  });

  describe('subscribe', () => {
    it('declares consumer queues as quorum queues, whose type cannot change later', async () => {
      const consumer = consumerName();
      const quorum = makeBus();
      await quorum.connect();
      const subscription = await quorum.subscribe({ consumer, patterns: ['test.*'] }, () =>
        Promise.resolve('ack'),
      );
      await subscription.cancel();
      const classic = makeBus({ queueType: 'classic' });
      await classic.connect();
      await expect(
        classic.subscribe({ consumer, patterns: ['test.*'] }, () => Promise.resolve('ack')),
      ).rejects.toThrow(/PRECONDITION_FAILED.*x-queue-type/);
    });

    it('delivers matching events and acks them', async () => {
      const bus = makeBus();
      await bus.connect();
      const consumer = consumerName();
      const seen: DeliveredEvent[] = [];
      const scopes: Array<string | undefined> = [];
      await bus.subscribe({ consumer, patterns: ['test.*'] }, (event) => {
        seen.push(event);
        scopes.push(currentCorrelationId());
        return Promise.resolve('ack');
      });
      const outcomes = await bus.publishBatch([ping(1), ping(2)]);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      await waitFor(() => seen.length === 2, { description: 'two deliveries' });
      expect(seen.map((e) => [e.routingKey, e.attempt, e.envelope.data])).toEqual([
        ['test.pinged', 1, { n: 1 }],
        ['test.pinged', 1, { n: 2 }],
      ]);
      // Each handler ran with its event's correlation id in scope (what its logs carry).
      expect(scopes).toEqual(['c-1', 'c-2']);
      await waitFor(async () => (await admin.messageCount(consumer)) === 0, {
        description: 'acks',
      });
    });

    it('retries with backoff, then dead-letters after maxAttempts', async () => {
      const bus = makeBus();
      await bus.connect();
      const consumer = consumerName();
      const attempts: number[] = [];
      await bus.subscribe({ consumer, patterns: ['test.pinged'], maxAttempts: 3 }, (event) => {
        attempts.push(event.attempt);
        expect(event.routingKey).toBe('test.pinged');
        if (event.attempt === 2) return Promise.reject(new Error('boom'));
        return Promise.resolve<HandlerResult>('retry');
      });
      const message = ping(7);
      await bus.publishBatch([message]);
      const dead = await waitFor(() => admin.get(consumerQueues(consumer).deadLetter), {
        description: 'message in the dlq',
        timeoutMs: 10_000,
      });
      expect(dead.properties.messageId).toBe(message.messageId);
      expect((dead.properties.headers as Record<string, unknown>)['x-attempt']).toBe(3);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await admin.messageCount(consumer)).toBe(0);
      expect(await admin.messageCount(consumerQueues(consumer).retry)).toBe(0);
    });

    it('dead-letters at once when the handler says so', async () => {
      const bus = makeBus();
      await bus.connect();
      const consumer = consumerName();
      let calls = 0;
      await bus.subscribe({ consumer, patterns: ['test.pinged'] }, () => {
        calls++;
        return Promise.resolve('dead-letter');
      });
      const message = ping(1);
      await bus.publishBatch([message]);
      const dead = await waitFor(() => admin.get(consumerQueues(consumer).deadLetter));
      expect(dead.properties.messageId).toBe(message.messageId);
      expect(calls).toBe(1);
    });

    it('dead-letters an envelope with a bad signature without calling the handler', async () => {
      const logged: string[] = [];
      const bus = makeBus({
        logger: { log: () => undefined, warn: (m) => logged.push(m), error: (m) => logged.push(m) },
      });
      await bus.connect();
      const consumer = consumerName();
      const handled: DeliveredEvent[] = [];
      await bus.subscribe({ consumer, patterns: ['test.pinged'] }, (event) => {
        handled.push(event);
        return Promise.resolve('ack');
      });
      const forged = forgedPing(1);
      const good = ping(2);
      await bus.publishBatch([forged, good]);
      const dead = await waitFor(() => admin.get(consumerQueues(consumer).deadLetter));
      expect(dead.properties.messageId).toBe(forged.messageId);
      await waitFor(() => handled.length === 1, { description: 'the good message' });
      expect(handled[0]!.envelope.id).toBe(good.messageId);
      expect(logged.some((line) => line.includes('signature'))).toBe(true);
    });

    it('cancel() waits for the handler in flight and stops deliveries', async () => {
      const bus = makeBus();
      await bus.connect();
      const consumer = consumerName();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      let finished = 0;
      const subscription = await bus.subscribe(
        { consumer, patterns: ['test.pinged'], prefetch: 1 },
        async () => {
          started++;
          await gate;
          finished++;
          return 'ack';
        },
      );
      await bus.publishBatch([ping(1), ping(2)]);
      await waitFor(() => started === 1, { description: 'first delivery' });
      const cancelled = subscription.cancel();
      release();
      await cancelled;
      expect(finished).toBe(1);
      expect(started).toBe(1);
      await waitFor(async () => (await admin.messageCount(consumer)) === 1, {
        description: 'second message back in the queue',
      });
    });

    it('a transient subscription drops failed deliveries and its queue expires once unused', async () => {
      const bus = makeBus({ transientQueue: { expiresMs: 1_000, maxLength: 100 } });
      await bus.connect();
      const consumer = consumerName();
      const seen: number[] = [];
      const subscription = await bus.subscribe(
        { consumer, patterns: ['test.pinged'], transient: true },
        (event) => {
          const n = (event.envelope.data as { n: number }).n;
          seen.push(n);
          return Promise.resolve(n === 1 ? 'retry' : 'ack');
        },
      );
      await bus.publishBatch([ping(1), ping(2)]);
      await waitFor(() => seen.length === 2, { description: 'two deliveries' });
      await waitFor(async () => (await admin.messageCount(consumer)) === 0, {
        description: 'nothing left in the queue',
      });
      // No retry queue, no dead-letter queue: the failed delivery was dropped, not retried.
      expect(seen).toEqual([1, 2]);
      expect(await admin.queueExists(consumerQueues(consumer).retry)).toBe(false);
      expect(await admin.queueExists(consumerQueues(consumer).deadLetter)).toBe(false);

      await subscription.cancel();
      // A passive declare counts as a use and restarts the expiry: poll slower than it.
      await waitFor(async () => !(await admin.queueExists(consumer)), {
        description: 'the broker deleted the unused transient queue',
        timeoutMs: 20_000,
        intervalMs: 2_500,
      });
    });
  });

  describe('request/reply', () => {
    it('round-trips a request and carries the correlation id', async () => {
      const server = makeBus();
      const client = makeBus();
      await Promise.all([server.connect(), client.connect()]);
      const service = uniqueName('bus-test-svc');
      queues.push(`rpc.${service}`);
      await server.respond(service, (pattern, payload, meta) =>
        Promise.resolve({
          pattern,
          payload,
          correlationId: meta.correlationId,
          inScope: currentCorrelationId(),
        }),
      );
      const reply = await client.request(
        service,
        'runner.get',
        { id: 42 },
        { correlationId: 'corr-9' },
      );
      expect(reply).toEqual({
        pattern: 'runner.get',
        payload: { id: 42 },
        correlationId: 'corr-9',
        inScope: 'corr-9',
      });
    });

    it('re-throws a remote error as RemoteRequestError keeping its code', async () => {
      const bus = makeBus();
      await bus.connect();
      const service = uniqueName('bus-test-svc');
      queues.push(`rpc.${service}`);
      await bus.respond(service, () => {
        const error = Object.assign(new Error('project is full'), {
          code: 'QUOTA_EXCEEDED',
          details: { max: 2 },
        });
        return Promise.reject(error);
      });
      const error = await bus.request(service, 'runner.launch', {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RemoteRequestError);
      expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { max: 2 }, service });
      expect((error as Error).message).toContain('project is full');
    });

    it('fails fast when no service listens and times out when it does not answer', async () => {
      const bus = makeBus();
      await bus.connect();
      await expect(bus.request(uniqueName('nobody'), 'x.y', {})).rejects.toMatchObject({
        code: BusErrorCode.NoResponder,
      });
      const service = uniqueName('bus-test-slow');
      queues.push(`rpc.${service}`);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await bus.respond(service, async () => {
        await gate;
        return 'late';
      });
      const error = await bus.request(service, 'slow.query', {}, { timeoutMs: 200 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      release();
      expect(error).toMatchObject({ code: BusErrorCode.RequestTimeout });
      expect((error as Error).message).toContain(`${service} slow.query`);
    });
  });
});
