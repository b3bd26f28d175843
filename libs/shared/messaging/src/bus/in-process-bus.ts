import { randomUUID } from 'node:crypto';

import { type EventCatalog, parseEnvelope } from '@stratavore/contracts';

import { BusError, BusErrorCode, RemoteRequestError, toRemoteErrorPayload } from './bus.errors';
import {
  type BusLogger,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  type RetryBackoff,
  retryDelayMs,
  silentBusLogger,
  topicMatches,
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
import { jsonCopy } from './json-copy';

export interface InProcessBusOptions {
  readonly signingKey: string;
  /** Contracts incoming envelopes are validated against; `null` checks envelope and signature only. */
  readonly catalog?: EventCatalog | null;
  readonly logger?: BusLogger;
  readonly retryBackoff?: RetryBackoff;
  readonly requestTimeoutMs?: number;
}

/** How many unrouted messages are kept for inspection (oldest dropped first). */
const MAX_UNROUTED = 1_000;

/** Why a message ended in the dead-letter list. */
export type DeadLetterReason = 'rejected' | 'max_attempts' | 'invalid';

export interface DeadLetter {
  readonly consumer: string;
  readonly messageId: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly attempt: number;
  readonly reason: DeadLetterReason;
  readonly detail?: string;
}

interface QueuedMessage {
  readonly messageId: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly attempt: number;
}

interface ActiveConsumer {
  readonly handler: EventHandler;
  readonly maxAttempts: number;
  cancelled: boolean;
}

/** One consumer's queue; like a durable RabbitMQ queue it outlives its subscriptions. */
class ConsumerQueue {
  readonly patterns = new Set<string>();
  readonly items: QueuedMessage[] = [];
  active?: ActiveConsumer;
  draining?: Promise<void>;

  constructor(readonly name: string) {}

  matches(routingKey: string): boolean {
    for (const pattern of this.patterns) if (topicMatches(pattern, routingKey)) return true;
    return false;
  }
}

/**
 * The bus of the single-node daemon: the same ports and delivery semantics as the RabbitMQ bus,
 * without the wire. Each consumer has its own queue, delivered one message at a time in publish
 * order; retries wait their backoff and go to the back of the queue; dead letters stay
 * inspectable through {@link deadLetters}.
 */
export class InProcessBus implements MessageBus {
  private readonly queues = new Map<string, ConsumerQueue>();
  private readonly responders = new Map<string, RequestHandler>();
  private readonly dead: DeadLetter[] = [];
  private readonly unrouted: Array<{ messageId: string; routingKey: string }> = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly logger: BusLogger;
  private readonly backoff: RetryBackoff;
  private readonly requestTimeoutMs: number;
  private connected = false;

  constructor(private readonly options: InProcessBusOptions) {
    this.logger = options.logger ?? silentBusLogger;
    this.backoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** The most recent messages no consumer's queue was bound for (at most 1,000). */
  unroutedMessages(): ReadonlyArray<{ readonly messageId: string; readonly routingKey: string }> {
    return [...this.unrouted];
  }

  /**
   * Confirms a message once every queue bound to its routing key holds it. A message no queue
   * takes is confirmed too and kept in a bounded list ({@link unroutedMessages}), like the
   * alternate exchange of the RabbitMQ topology: an event nobody consumes yet is not an error,
   * and must not hold back later events of its subject in the relay.
   */
  publishBatch(messages: readonly OutgoingEvent[]): Promise<PublishOutcome[]> {
    const outcomes = messages.map((message): PublishOutcome => {
      if (!this.connected) {
        return { messageId: message.messageId, ok: false, reason: 'disconnected' };
      }
      const targets = [...this.queues.values()].filter((q) => q.matches(message.routingKey));
      if (targets.length === 0) {
        this.unrouted.push({ messageId: message.messageId, routingKey: message.routingKey });
        if (this.unrouted.length > MAX_UNROUTED) this.unrouted.shift();
        return { messageId: message.messageId, ok: true };
      }
      for (const queue of targets) {
        queue.items.push({
          messageId: message.messageId,
          routingKey: message.routingKey,
          body: Buffer.from(message.body),
          attempt: 1,
        });
        this.kick(queue);
      }
      return { messageId: message.messageId, ok: true };
    });
    return Promise.resolve(outcomes);
  }

  subscribe(spec: SubscriptionSpec, handler: EventHandler): Promise<Subscription> {
    this.assertConnected();
    const queue = this.queues.get(spec.consumer) ?? new ConsumerQueue(spec.consumer);
    this.queues.set(spec.consumer, queue);
    if (queue.active && !queue.active.cancelled) {
      return Promise.reject(new Error(`consumer ${spec.consumer} already has a subscription`));
    }
    for (const pattern of spec.patterns) queue.patterns.add(pattern);
    const active: ActiveConsumer = {
      handler,
      maxAttempts: spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      cancelled: false,
    };
    queue.active = active;
    this.kick(queue);
    return Promise.resolve({
      cancel: async () => {
        active.cancelled = true;
        if (queue.active === active) queue.active = undefined;
        await queue.draining;
      },
    });
  }

  respond(service: string, handler: RequestHandler): Promise<Subscription> {
    this.assertConnected();
    if (this.responders.has(service)) {
      return Promise.reject(new Error(`service ${service} already has a responder`));
    }
    this.responders.set(service, handler);
    return Promise.resolve({
      cancel: () => {
        if (this.responders.get(service) === handler) this.responders.delete(service);
        return Promise.resolve();
      },
    });
  }

  async request<TResponse>(
    service: string,
    pattern: string,
    payload: unknown,
    options: { readonly timeoutMs?: number; readonly correlationId?: string } = {},
  ): Promise<TResponse> {
    this.assertConnected();
    const handler = this.responders.get(service);
    if (!handler) {
      throw new BusError(BusErrorCode.NoResponder, `no responder for ${service} (${pattern})`);
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const meta = { correlationId: options.correlationId ?? randomUUID() };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BusError(
              BusErrorCode.RequestTimeout,
              `request ${service} ${pattern} timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    // Payload and result are copied as JSON would carry them, so both buses behave the same.
    const call = Promise.resolve()
      .then(() => handler(pattern, jsonCopy(payload), meta))
      .then(
        (result) => jsonCopy(result) as TResponse,
        (error: unknown) => {
          throw new RemoteRequestError(service, pattern, toRemoteErrorPayload(error));
        },
      );
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Messages dead-lettered so far, optionally for one consumer. */
  deadLetters(consumer?: string): readonly DeadLetter[] {
    return consumer === undefined
      ? [...this.dead]
      : this.dead.filter((d) => d.consumer === consumer);
  }

  /** Messages waiting in a consumer's queue (not counting retries still in backoff). */
  queueDepth(consumer: string): number {
    return this.queues.get(consumer)?.items.length ?? 0;
  }

  async close(): Promise<void> {
    this.connected = false;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    const draining: Promise<void>[] = [];
    for (const queue of this.queues.values()) {
      if (queue.active) queue.active.cancelled = true;
      queue.active = undefined;
      if (queue.draining) draining.push(queue.draining);
    }
    this.responders.clear();
    await Promise.all(draining);
  }

  private assertConnected(): void {
    if (!this.connected) throw new BusError(BusErrorCode.NotConnected, 'bus is not connected');
  }

  private kick(queue: ConsumerQueue): void {
    if (queue.draining || !queue.active || queue.items.length === 0) return;
    queue.draining = this.drain(queue).finally(() => {
      queue.draining = undefined;
      this.kick(queue);
    });
  }

  private async drain(queue: ConsumerQueue): Promise<void> {
    // Yield first so publishBatch returns before any handler runs, as with a broker.
    await Promise.resolve();
    for (;;) {
      const active = queue.active;
      if (!active || active.cancelled) return;
      const item = queue.items.shift();
      if (!item) return;
      await this.deliver(queue, active, item);
    }
  }

  private async deliver(queue: ConsumerQueue, active: ActiveConsumer, item: QueuedMessage) {
    const parsed = parseEnvelope(item.body, this.options.signingKey, {
      catalog: this.options.catalog,
    });
    if (!parsed.ok) {
      this.logger.warn(
        `dead-lettering invalid message ${item.messageId} for ${queue.name}: ${parsed.error.kind}: ${parsed.error.message}`,
      );
      this.deadLetter(queue, item, 'invalid', parsed.error.message);
      return;
    }
    let result: HandlerResult;
    try {
      result = await active.handler({
        envelope: parsed.envelope,
        routingKey: item.routingKey,
        attempt: item.attempt,
      });
    } catch (error) {
      this.logger.warn(
        `handler of ${queue.name} failed on ${item.messageId} (attempt ${item.attempt}): ${String(error)}`,
      );
      result = 'retry';
    }
    switch (result) {
      case 'ack':
        return;
      case 'dead-letter':
        this.deadLetter(queue, item, 'rejected');
        return;
      case 'retry':
        if (item.attempt >= active.maxAttempts) {
          this.deadLetter(queue, item, 'max_attempts', `gave up after ${item.attempt} attempts`);
          return;
        }
        this.scheduleRetry(queue, { ...item, attempt: item.attempt + 1 }, item.attempt);
        return;
    }
  }

  private scheduleRetry(queue: ConsumerQueue, item: QueuedMessage, failedAttempt: number): void {
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(timer);
        queue.items.push(item);
        this.kick(queue);
      },
      retryDelayMs(failedAttempt, this.backoff),
    );
    this.retryTimers.add(timer);
  }

  private deadLetter(
    queue: ConsumerQueue,
    item: QueuedMessage,
    reason: DeadLetterReason,
    detail?: string,
  ): void {
    this.dead.push({
      consumer: queue.name,
      messageId: item.messageId,
      routingKey: item.routingKey,
      body: item.body,
      attempt: item.attempt,
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
  }
}
