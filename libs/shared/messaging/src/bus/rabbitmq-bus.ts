import { randomUUID } from 'node:crypto';
import { type EventEmitter } from 'node:events';

import { type EventCatalog, parseEnvelope } from '@stratavore/contracts';
import {
  type AmqpConnectionManager,
  AmqpConnectionManagerClass,
  type ChannelWrapper,
} from 'amqp-connection-manager';
import { type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';

import {
  BusError,
  BusErrorCode,
  redactUrl,
  type RemoteErrorPayload,
  RemoteRequestError,
  toRemoteErrorPayload,
} from './bus.errors';
import {
  answerInScope,
  type BusLogger,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  deliverInScope,
  type RetryBackoff,
  retryDelayMs,
  silentBusLogger,
} from './bus.policy';
import {
  type EventHandler,
  type HandlerResult,
  type MessageBus,
  type OutgoingEvent,
  type PublishOutcome,
  type RequestHandler,
  type Subscription,
  type SubscriptionSpec,
} from './bus.ports';
import { ConfirmPublisher } from './rabbitmq-publisher';

export interface RabbitMqBusOptions {
  readonly url: string;
  /** The durable topic exchange events go to. */
  readonly exchange?: string;
  /** The direct exchange consumer queues dead-letter to (routing key = consumer name). */
  readonly deadLetterExchange?: string;
  readonly signingKey: string;
  /** Names the connection in the broker and is the default `source` in logs. */
  readonly serviceName: string;
  readonly logger?: BusLogger;
  readonly publishTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Bound on close(): in-flight handlers and outstanding confirms. */
  readonly closeTimeoutMs?: number;
  /** Messages awaiting a publisher confirm at once. */
  readonly maxInFlight?: number;
  readonly retryBackoff?: RetryBackoff;
  readonly heartbeatIntervalInSeconds?: number;
  /** Contracts incoming envelopes are validated against; `null` checks envelope and signature only. */
  readonly catalog?: EventCatalog | null;
  /**
   * Type of each consumer's main queue (default `quorum`: replicated, and the fastest with
   * publisher confirms). A queue's type is fixed when the broker creates it: declaring an
   * existing classic queue as quorum (or the reverse) fails with PRECONDITION_FAILED, so moving
   * an existing consumer to another type means draining and deleting its queue first.
   */
  readonly queueType?: ConsumerQueueType;
  /**
   * Quorum queues only: deliveries of one message (redeliveries after a consumer or channel
   * died, `nack` with requeue) after which the broker dead-letters it. A second safety net
   * against redelivery loops; the bus's own retry queue counts attempts first.
   */
  readonly deliveryLimit?: number;
  /**
   * Alternate exchange of the events exchange: a fanout exchange with a bounded queue of the same
   * name where events no queue is bound for are kept for inspection (default
   * `stratavore.unrouted`). Such events are then confirmed, not returned. `null`: no alternate
   * exchange, unroutable events come back as `returned`. Like the queue type, an exchange's
   * alternate exchange is fixed at creation; every bus on one exchange must agree on it.
   */
  readonly unroutedExchange?: string | null;
  /** Most events the unrouted queue keeps; the oldest are dropped first (default 10 000). */
  readonly unroutedMaxLength?: number;
  /**
   * Transient subscriptions: how long the broker keeps a queue nobody consumes (default 60 s, so
   * a reconnecting instance finds its queue again) and how many events it holds at most (default
   * 10 000, the oldest dropped first).
   */
  readonly transientQueue?: { readonly expiresMs?: number; readonly maxLength?: number };
}

export type ConsumerQueueType = 'quorum' | 'classic';

export const DEFAULT_DELIVERY_LIMIT = 20;
export const DEFAULT_UNROUTED_EXCHANGE = 'stratavore.unrouted';

const ATTEMPT_HEADER = 'x-attempt';
const ROUTING_KEY_HEADER = 'x-routing-key';
const CORRELATION_HEADER = 'x-correlation-id';
const REPLY_TO = 'amq.rabbitmq.reply-to';
const TIMED_OUT = Symbol('timed out');

/** Queue names for one consumer; the same names the broker shows. */
export function consumerQueues(consumer: string) {
  return { queue: consumer, retry: `${consumer}.retry`, deadLetter: `${consumer}.dlq` };
}

/** The queue a service's request handler consumes. */
export function requestQueue(service: string): string {
  return `rpc.${service}`;
}

type ReplyBody = { ok: true; data?: unknown } | { ok: false; error: RemoteErrorPayload };

interface PendingRequest {
  readonly service: string;
  readonly pattern: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The production {@link MessageBus} on RabbitMQ through amqp-connection-manager, which reconnects
 * and re-runs each channel's setup (topology, consumers) after a connection loss.
 *
 * Topology: events go to the durable topic exchange (`stratavore.events`) with routing key =
 * envelope type; events no queue is bound for go to its alternate exchange, the fanout
 * `stratavore.unrouted`, into the bounded queue `stratavore.unrouted`. Each consumer owns a
 * durable quorum queue `<consumer>` bound with its patterns and dead-lettering to the direct
 * exchange `stratavore.dlx` -> `<consumer>.dlq` (after a rejection, or past the delivery limit),
 * and a classic retry queue `<consumer>.retry` where a message waits out its per-message
 * expiration, then dead-letters back to `<consumer>` through the default exchange. Requests go
 * to `rpc.<service>` and are answered on RabbitMQ's direct reply-to.
 */
export class RabbitMqBus implements MessageBus {
  private manager?: AmqpConnectionManager;
  private publisher?: ConfirmPublisher;
  private rpcClient?: { wrapper: ChannelWrapper; channel?: Channel };
  private readonly pending = new Map<string, PendingRequest>();
  private readonly subscriptions = new Set<Subscription>();
  private connectionUp = false;
  /** A reconnect asked by {@link recycleConnection} is under way. */
  private recycling = false;
  private lastRecycleAt = 0;
  private closed = false;
  private readonly logger: BusLogger;
  private readonly exchange: string;
  private readonly deadLetterExchange: string;
  private readonly backoff: RetryBackoff;
  private readonly unroutedExchange: string | null;

  constructor(private readonly options: RabbitMqBusOptions) {
    this.logger = options.logger ?? silentBusLogger;
    this.exchange = options.exchange ?? 'stratavore.events';
    this.deadLetterExchange = options.deadLetterExchange ?? 'stratavore.dlx';
    this.backoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.unroutedExchange =
      options.unroutedExchange === undefined ? DEFAULT_UNROUTED_EXCHANGE : options.unroutedExchange;
  }

  async connect(): Promise<void> {
    if (this.closed) throw new BusError(BusErrorCode.Closed, 'bus is closed');
    if (this.manager) return;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const manager = new AmqpConnectionManagerClass(this.options.url, {
      heartbeatIntervalInSeconds: this.options.heartbeatIntervalInSeconds ?? 5,
      reconnectTimeInSeconds: 1,
      connectionOptions: { clientProperties: { connection_name: this.options.serviceName } },
    });
    this.manager = manager;
    let lastFailure: Error | undefined;
    manager.on('connect', ({ connection }: { connection: EventEmitter }) => {
      this.connectionUp = true;
      this.recycling = false;
      lastFailure = undefined;
      connection.once('close', () => {
        this.connectionUp = false;
      });
      this.logger.log(`connected to ${redactUrl(this.options.url)}`);
    });
    manager.on('disconnect', ({ err }: { err?: Error }) => {
      this.connectionUp = false;
      if (!this.closed) this.logger.warn(`disconnected from RabbitMQ: ${err?.message ?? 'closed'}`);
    });
    manager.on('connectFailed', ({ err }: { err: Error }) => {
      if (!lastFailure) this.logger.warn(`cannot reach RabbitMQ: ${err.message}`);
      lastFailure = err;
    });
    try {
      await manager.connect({ timeout: timeoutMs });
      const wrapper = this.createChannel(manager, 'publisher', true);
      this.publisher = new ConfirmPublisher(wrapper, {
        exchange: this.exchange,
        declareExchange: this.declareEventsExchange,
        publishTimeoutMs: this.options.publishTimeoutMs ?? 10_000,
        maxInFlight: this.options.maxInFlight ?? 5_000,
        connectionUp: () => this.connectionUp,
      });
      await wrapper.waitForConnect();
      await wrapper.addSetup(this.publisher.setup);
    } catch (error) {
      this.manager = undefined;
      this.publisher = undefined;
      await manager.close().catch(() => undefined);
      const reason = lastFailure?.message ?? (error as Error).message;
      throw new BusError(
        BusErrorCode.ConnectFailed,
        `could not connect to RabbitMQ at ${redactUrl(this.options.url)} within ${timeoutMs} ms: ${reason}`,
        { cause: error },
      );
    }
  }

  isConnected(): boolean {
    return !this.closed && this.connectionUp && (this.publisher?.isReady() ?? false);
  }

  publishBatch(
    messages: readonly OutgoingEvent[],
    options?: { readonly timeoutMs?: number },
  ): Promise<PublishOutcome[]> {
    if (!this.publisher || this.closed) {
      return Promise.resolve(
        messages.map((m) => ({
          messageId: m.messageId,
          ok: false as const,
          reason: 'disconnected' as const,
          detail: this.closed ? 'bus is closed' : 'bus is not connected',
        })),
      );
    }
    return this.publisher.publishBatch(messages, options?.timeoutMs);
  }

  async subscribe(spec: SubscriptionSpec, handler: EventHandler): Promise<Subscription> {
    const manager = this.requireManager();
    const names = consumerQueues(spec.consumer);
    const transient = spec.transient === true;
    // Without a retry queue there is nothing to retry into: a failed delivery is dropped.
    const maxAttempts = transient ? 1 : (spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const prefetch = spec.prefetch ?? 10;
    const inFlight = new Set<Promise<void>>();
    let cancelled = false;
    let current: { channel: ConfirmChannel; consumerTag: string } | undefined;

    const queueArguments = this.consumerQueueArguments(spec.consumer);

    const setup = async (channel: ConfirmChannel) => {
      await this.declareEventsExchange(channel);
      if (transient) {
        await channel.assertQueue(names.queue, {
          durable: false,
          arguments: {
            'x-expires': this.options.transientQueue?.expiresMs ?? 60_000,
            'x-max-length': this.options.transientQueue?.maxLength ?? 10_000,
            'x-overflow': 'drop-head',
          },
        });
      } else {
        await channel.assertExchange(this.deadLetterExchange, 'direct', { durable: true });
        await channel.assertQueue(names.deadLetter, { durable: true });
        await channel.bindQueue(names.deadLetter, this.deadLetterExchange, spec.consumer);
        await channel.assertQueue(names.queue, { durable: true, arguments: queueArguments });
        await channel.assertQueue(names.retry, {
          durable: true,
          arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.queue },
        });
      }
      for (const pattern of spec.patterns) {
        await channel.bindQueue(names.queue, this.exchange, pattern);
      }
      if (cancelled) return;
      // Per consumer (global = false): quorum queues do not support a channel-wide prefetch.
      await channel.prefetch(prefetch, false);
      const { consumerTag } = await channel.consume(names.queue, (message) => {
        if (!message) return; // the broker cancelled us; the wrapper's setup re-consumes
        const work = this.handleDelivery(channel, message, spec.consumer, maxAttempts, handler);
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      });
      current = { channel, consumerTag };
    };

    const wrapper = this.createChannel(manager, `consumer:${spec.consumer}`, true);
    await this.setUp(wrapper, setup, `consumer ${spec.consumer}`);

    const subscription: Subscription = {
      cancel: async () => {
        if (cancelled) return;
        cancelled = true;
        this.subscriptions.delete(subscription);
        if (current) {
          await current.channel.cancel(current.consumerTag).catch(() => undefined);
        }
        await this.bounded(Promise.allSettled([...inFlight]), `handlers of ${spec.consumer}`);
        await wrapper.close().catch(() => undefined);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async respond(service: string, handler: RequestHandler): Promise<Subscription> {
    const manager = this.requireManager();
    const queue = requestQueue(service);
    const inFlight = new Set<Promise<void>>();
    let cancelled = false;
    let current: { channel: Channel; consumerTag: string } | undefined;

    const setup = async (channel: Channel) => {
      // Requests carry an expiration equal to the caller's timeout, so nothing stale piles up.
      await channel.assertQueue(queue, { durable: true });
      if (cancelled) return;
      await channel.prefetch(16);
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (!message) return;
        const work = this.handleRequest(channel, message, service, handler);
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      });
      current = { channel, consumerTag };
    };
    const wrapper = this.createChannel(manager, `responder:${service}`, false);
    await this.setUp(wrapper, setup, `responder ${service}`);

    const subscription: Subscription = {
      cancel: async () => {
        if (cancelled) return;
        cancelled = true;
        this.subscriptions.delete(subscription);
        if (current) {
          await current.channel.cancel(current.consumerTag).catch(() => undefined);
        }
        await this.bounded(Promise.allSettled([...inFlight]), `requests of ${service}`);
        await wrapper.close().catch(() => undefined);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async request<TResponse>(
    service: string,
    pattern: string,
    payload: unknown,
    options: { readonly timeoutMs?: number; readonly correlationId?: string } = {},
  ): Promise<TResponse> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 5_000;
    const deadline = Date.now() + timeoutMs;
    const client = this.ensureRpcClient();
    if (!client.channel) {
      await this.bounded(client.wrapper.waitForConnect(), 'reply channel', timeoutMs);
    }
    const channel = client.channel;
    if (!channel || !this.connectionUp) {
      throw new BusError(
        BusErrorCode.NotConnected,
        `cannot send ${service} ${pattern}: not connected to RabbitMQ`,
      );
    }
    const requestId = randomUUID();
    const body = Buffer.from(JSON.stringify(payload ?? null));
    return new Promise<TResponse>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(requestId);
          reject(
            new BusError(
              BusErrorCode.RequestTimeout,
              `request ${service} ${pattern} timed out after ${timeoutMs} ms`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      this.pending.set(requestId, {
        service,
        pattern,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      try {
        channel.sendToQueue(requestQueue(service), body, {
          replyTo: REPLY_TO,
          correlationId: requestId,
          type: pattern,
          mandatory: true,
          expiration: String(timeoutMs),
          contentType: 'application/json',
          headers: {
            [CORRELATION_HEADER]: options.correlationId ?? requestId,
          },
        });
      } catch (error) {
        this.failRequest(
          requestId,
          new BusError(
            BusErrorCode.Disconnected,
            `cannot send ${service} ${pattern}: ${(error as Error).message}`,
          ),
        );
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.cancel()));
    if (this.publisher) await this.bounded(this.publisher.drain(), 'outstanding confirms');
    for (const id of [...this.pending.keys()]) {
      this.failRequest(id, new BusError(BusErrorCode.Closed, 'bus closed before the reply'));
    }
    const manager = this.manager;
    this.manager = undefined;
    this.connectionUp = false;
    if (!manager) return;
    const model = manager.connection;
    const closedCleanly = await this.bounded(
      manager.close().then(
        () => true,
        () => true,
      ),
      'the connection to close',
    );
    if (!closedCleanly) {
      // The broker never answered connection.close (a stalled network): drop the socket so the
      // process can exit. amqplib keeps it on the connection as `stream`.
      const connection = model?.connection as unknown as { stream?: { destroy(): void } };
      connection?.stream?.destroy();
    }
  }

  /** The events exchange (and its alternate exchange); publishers and consumers declare alike. */
  private readonly declareEventsExchange = async (channel: Channel): Promise<void> => {
    const unrouted = this.unroutedExchange;
    if (unrouted === null) {
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
      return;
    }
    await channel.assertExchange(unrouted, 'fanout', { durable: true });
    await channel.assertQueue(unrouted, {
      durable: true,
      arguments: {
        'x-max-length': this.options.unroutedMaxLength ?? 10_000,
        'x-overflow': 'drop-head',
      },
    });
    await channel.bindQueue(unrouted, unrouted, '');
    await channel.assertExchange(this.exchange, 'topic', {
      durable: true,
      alternateExchange: unrouted,
    });
  };

  private consumerQueueArguments(consumer: string): Record<string, unknown> {
    const deadLettering = {
      'x-dead-letter-exchange': this.deadLetterExchange,
      'x-dead-letter-routing-key': consumer,
    };
    const queueType = this.options.queueType ?? 'quorum';
    switch (queueType) {
      case 'classic':
        return deadLettering;
      case 'quorum':
        // Dead-lettering stays at-most-once (the default strategy): at-least-once would need
        // `x-overflow: reject-publish`, and a full queue would then nack the relay's publishes.
        return {
          ...deadLettering,
          'x-queue-type': 'quorum',
          'x-delivery-limit': this.options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
        };
    }
  }

  /**
   * Closes the connection and connects again: once however many channels ask, and at most once a
   * second, so that a setup that keeps failing on every new channel cannot spin.
   */
  private recycleConnection(): void {
    if (this.recycling || !this.manager) return;
    this.recycling = true;
    const waitMs = Math.max(0, this.lastRecycleAt + 1_000 - Date.now());
    setTimeout(() => {
      this.lastRecycleAt = Date.now();
      if (!this.closed) this.manager?.reconnect();
    }, waitMs).unref();
  }

  private createChannel(
    manager: AmqpConnectionManager,
    name: string,
    confirm: boolean,
  ): ChannelWrapper {
    const wrapper = manager.createChannel({ name, confirm });
    // Setup failures after a reconnect are emitted, not thrown; without a listener they crash.
    wrapper.on('error', (error: Error) => {
      if (!this.closed) this.logger.error(`channel ${name}: ${error.message}`);
    });
    // A channel the broker closes with an error (a 404 for a deleted exchange, a 406) emits
    // 'error' on the amqplib channel, which the wrapper does not listen to; unheard, amqplib
    // turns it into an exception that tears the connection down. And amqp-connection-manager
    // opens a new channel only on a new connection. So: hear it, and recycle the connection at
    // once, which opens every channel anew and runs its setups (the exchange is declared again).
    void wrapper.addSetup((channel: Channel) => {
      channel.on('error', (error: Error) => {
        if (this.closed) return;
        this.logger.warn(`channel ${name} closed by the broker, reconnecting: ${error.message}`);
        this.recycleConnection();
      });
      return Promise.resolve();
    });
    return wrapper;
  }

  /** Runs the first setup; on failure (e.g. a queue declared with other arguments) gives up. */
  private async setUp(
    wrapper: ChannelWrapper,
    setup: (channel: ConfirmChannel) => Promise<void>,
    what: string,
  ): Promise<void> {
    try {
      // addSetup runs the setup at once (and reports its failure) only on a connected channel.
      await wrapper.waitForConnect();
      await wrapper.addSetup(setup);
    } catch (error) {
      await wrapper.close().catch(() => undefined);
      throw new Error(`could not set up ${what}: ${toError(error).message}`, { cause: error });
    }
  }

  private requireManager(): AmqpConnectionManager {
    if (this.closed) throw new BusError(BusErrorCode.Closed, 'bus is closed');
    if (!this.manager) throw new BusError(BusErrorCode.NotConnected, 'call connect() first');
    return this.manager;
  }

  private async handleDelivery(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    consumer: string,
    maxAttempts: number,
    handler: EventHandler,
  ): Promise<void> {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const attempt = positiveInt(headers[ATTEMPT_HEADER]) ?? 1;
    const routingKey =
      typeof headers[ROUTING_KEY_HEADER] === 'string'
        ? headers[ROUTING_KEY_HEADER]
        : message.fields.routingKey;
    const label = `${String(message.properties.messageId ?? '(no id)')} on ${consumer}`;
    const parsed = parseEnvelope(message.content, this.options.signingKey, {
      catalog: this.options.catalog,
    });
    if (!parsed.ok) {
      this.logger.warn(
        `dead-lettering invalid message ${label}: ${parsed.error.kind}: ${parsed.error.message}`,
      );
      settleDelivery(() => channel.nack(message, false, false));
      return;
    }
    let result: HandlerResult;
    try {
      result = await deliverInScope(handler, { envelope: parsed.envelope, routingKey, attempt });
    } catch (error) {
      this.logger.warn(`handler failed on ${label} (attempt ${attempt}): ${String(error)}`);
      result = 'retry';
    }
    switch (result) {
      case 'ack':
        settleDelivery(() => channel.ack(message));
        return;
      case 'dead-letter':
        settleDelivery(() => channel.nack(message, false, false));
        return;
      case 'retry': {
        if (attempt >= maxAttempts) {
          this.logger.warn(`dead-lettering ${label} after ${attempt} attempts`);
          settleDelivery(() => channel.nack(message, false, false));
          return;
        }
        const delay = retryDelayMs(attempt, this.backoff);
        try {
          await new Promise<void>((resolve, reject) => {
            channel.sendToQueue(
              consumerQueues(consumer).retry,
              message.content,
              {
                ...message.properties,
                persistent: true,
                expiration: String(delay),
                headers: {
                  ...headers,
                  [ATTEMPT_HEADER]: attempt + 1,
                  [ROUTING_KEY_HEADER]: routingKey,
                },
              },
              (error: unknown) => (error ? reject(toError(error)) : resolve()),
            );
          });
        } catch (error) {
          // The retry copy is not safely stored; leave the original unacked so the broker
          // redelivers it (same attempt number) rather than lose it.
          this.logger.warn(`could not schedule retry of ${label}: ${toError(error).message}`);
          settleDelivery(() => channel.nack(message, false, true));
          return;
        }
        settleDelivery(() => channel.ack(message));
        return;
      }
    }
  }

  private async handleRequest(
    channel: Channel,
    message: ConsumeMessage,
    service: string,
    handler: RequestHandler,
  ): Promise<void> {
    const pattern = typeof message.properties.type === 'string' ? message.properties.type : '';
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const replyTo = message.properties.replyTo as unknown;
    const correlationId = message.properties.correlationId as unknown;
    let reply: ReplyBody;
    try {
      const payload = JSON.parse(message.content.toString('utf8')) as unknown;
      const meta = {
        correlationId:
          typeof headers[CORRELATION_HEADER] === 'string'
            ? headers[CORRELATION_HEADER]
            : typeof correlationId === 'string'
              ? correlationId
              : '',
      };
      const data = await answerInScope(meta, () => handler(pattern, payload, meta));
      reply = { ok: true, data };
    } catch (error) {
      reply = { ok: false, error: toRemoteErrorPayload(error) };
    }
    if (typeof replyTo === 'string' && replyTo.length > 0) {
      try {
        channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
          correlationId: typeof correlationId === 'string' ? correlationId : undefined,
          contentType: 'application/json',
        });
      } catch (error) {
        this.logger.warn(`could not reply to ${service} ${pattern}: ${toError(error).message}`);
      }
    } else {
      this.logger.warn(`dropping the reply to ${service} ${pattern}: request had no replyTo`);
    }
    settleDelivery(() => channel.ack(message));
  }

  private ensureRpcClient(): { wrapper: ChannelWrapper; channel?: Channel } {
    if (this.rpcClient) return this.rpcClient;
    const manager = this.requireManager();
    const client: { wrapper: ChannelWrapper; channel?: Channel } = {
      wrapper: this.createChannel(manager, 'rpc-client', false),
    };
    // Direct reply-to: replies arrive on the pseudo-queue of the very channel that sent the
    // request, and RabbitMQ only allows consuming it in no-ack mode. Replies are not durable
    // work (the caller times out and retries), so no-ack is safe here and only here.
    void client.wrapper
      .addSetup(async (channel: Channel) => {
        channel.on('return', (message: ConsumeMessage) => {
          const id = message.properties.correlationId as unknown;
          if (typeof id !== 'string') return;
          const request = this.pending.get(id);
          if (!request) return;
          this.failRequest(
            id,
            new BusError(
              BusErrorCode.NoResponder,
              `no responder for ${request.service} (${request.pattern}): queue ${requestQueue(request.service)} does not exist`,
            ),
          );
        });
        channel.once('close', () => {
          if (client.channel === channel) client.channel = undefined;
          // Replies are bound to the closed channel: none of the pending ones can arrive.
          for (const id of [...this.pending.keys()]) {
            const request = this.pending.get(id)!;
            this.failRequest(
              id,
              new BusError(
                BusErrorCode.Disconnected,
                `connection lost while waiting for ${request.service} ${request.pattern}`,
              ),
            );
          }
        });
        await channel.consume(REPLY_TO, (message) => message && this.onReply(message), {
          noAck: true,
        });
        client.channel = channel;
      })
      .catch((error: unknown) =>
        this.logger.error(`reply channel setup failed: ${toError(error).message}`),
      );
    this.rpcClient = client;
    return client;
  }

  private onReply(message: ConsumeMessage): void {
    const id = message.properties.correlationId as unknown;
    if (typeof id !== 'string') return;
    const request = this.pending.get(id);
    if (!request) return; // timed out already
    this.pending.delete(id);
    clearTimeout(request.timer);
    let reply: ReplyBody;
    try {
      reply = JSON.parse(message.content.toString('utf8')) as ReplyBody;
    } catch {
      request.reject(
        new BusError(
          BusErrorCode.BadReply,
          `unreadable reply from ${request.service} ${request.pattern}`,
        ),
      );
      return;
    }
    if (reply.ok) request.resolve(reply.data);
    else request.reject(new RemoteRequestError(request.service, request.pattern, reply.error));
  }

  private failRequest(id: string, error: Error): void {
    const request = this.pending.get(id);
    if (!request) return;
    this.pending.delete(id);
    clearTimeout(request.timer);
    request.reject(error);
  }

  /** Waits for `work` at most `timeoutMs`; true when it finished in time. */
  private async bounded(
    work: Promise<unknown>,
    what: string,
    timeoutMs = this.options.closeTimeoutMs ?? 10_000,
  ): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    });
    const result = await Promise.race([work, timeout]);
    clearTimeout(timer);
    if (result !== TIMED_OUT) return true;
    this.logger.warn(`gave up waiting for ${what} after ${timeoutMs} ms`);
    return false;
  }
}

/** ack/nack on a channel that died throws; the broker redelivers those messages anyway. */
function settleDelivery(settle: () => void): void {
  try {
    settle();
  } catch {
    // channel closed: the delivery is requeued by the broker
  }
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
