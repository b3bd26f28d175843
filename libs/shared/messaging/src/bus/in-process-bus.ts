import { randomUUID } from 'node:crypto';

import { type EventCatalog, parseEnvelope } from '@stratavore/contracts';

import { BusError, BusErrorCode, RemoteRequestError, toRemoteErrorPayload } from './bus.errors';
import {
  answerInScope,
  type BusLogger,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  deliverInScope,
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
  /** How long a publish waits for its confirmations by default (10 000 ms, as the RabbitMQ bus). */
  readonly publishTimeoutMs?: number;
  /**
   * Hold every publish until {@link InProcessBus.open} (default false: route at once). The
   * daemon holds them while its modules subscribe, so that a backlog the relay publishes at
   * start-up reaches consumers that subscribe a moment after it, instead of being confirmed as
   * unrouted.
   */
  readonly holdUntilOpen?: boolean;
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
  /**
   * The publishes waiting for this queue to be done with the message; shared by its retries,
   * and joined by a publish of the same message id while it is still here.
   */
  readonly confirmations: Confirmation[];
}

interface ActiveConsumer {
  readonly handler: EventHandler;
  readonly maxAttempts: number;
  cancelled: boolean;
}

/**
 * One message of one publish: confirmed once every durable queue it was routed to is done with
 * it (handled, or dead-lettered), refused when one of them dropped it (its consumer stopped, the
 * bus closed). Routing itself counts as one holder until {@link done} after it. The first verdict
 * counts; the publish's timeout may come before it.
 */
class Confirmation {
  private holders = 1;
  private refusal: PublishOutcome | null = null;

  constructor(
    private readonly messageId: string,
    private readonly report: (outcome: PublishOutcome) => void,
  ) {}

  /** One more queue holds the message. */
  hold(): void {
    this.holders += 1;
  }

  /** The message will not be confirmed; reported once every holder is done. */
  refuse(detail: string): void {
    this.refusal ??= { messageId: this.messageId, ok: false, reason: 'disconnected', detail };
  }

  /** A holder (a queue, or the routing) is done with the message. */
  done(): void {
    this.holders -= 1;
    if (this.holders === 0) this.report(this.refusal ?? { messageId: this.messageId, ok: true });
  }
}

/**
 * One consumer's queue. Like a RabbitMQ queue it is kept across its subscriptions, but it lives
 * in memory: a durable queue therefore confirms a message only once its consumer is done with
 * it, and refuses messages while it has no consumer, so that what a stop loses is exactly what
 * the outbox still holds as unpublished.
 */
class ConsumerQueue {
  readonly patterns = new Set<string>();
  readonly items: QueuedMessage[] = [];
  /** Confirmations of every message this queue holds (queued, in flight or in retry), by id. */
  readonly holding = new Map<string, Confirmation[]>();
  readonly retries = new Map<NodeJS.Timeout, QueuedMessage>();
  transient = false;
  active?: ActiveConsumer;
  draining?: Promise<void>;

  constructor(readonly name: string) {}

  matches(routingKey: string): boolean {
    for (const pattern of this.patterns) if (topicMatches(pattern, routingKey)) return true;
    return false;
  }

  /** Takes a published message, or says why not. */
  accept(message: OutgoingEvent, confirmation: Confirmation): void {
    if (this.transient) {
      // A live view's queue: nothing waits for it, and without a consumer the message is gone.
      if (this.active) this.items.push(queued(message, []));
      return;
    }
    if (!this.active) {
      confirmation.refuse(`consumer ${this.name} has no subscription`);
      return;
    }
    confirmation.hold();
    const waiting = this.holding.get(message.messageId);
    if (waiting) {
      waiting.push(confirmation);
      return;
    }
    const item = queued(message, [confirmation]);
    this.holding.set(message.messageId, item.confirmations);
    this.items.push(item);
  }

  /** The consumer is done with the message: its publishes are confirmed. */
  finish(item: QueuedMessage): void {
    this.holding.delete(item.messageId);
    for (const confirmation of item.confirmations) confirmation.done();
  }

  /** The message is dropped unhandled: its publishes are refused, the outbox keeps it. */
  drop(item: QueuedMessage, detail: string): void {
    this.holding.delete(item.messageId);
    for (const confirmation of item.confirmations) {
      confirmation.refuse(detail);
      confirmation.done();
    }
  }

  /** Drops what waits (queued and in retry); the message in flight is finished by its delivery. */
  dropWaiting(detail: string): void {
    for (const [timer, item] of this.retries) {
      clearTimeout(timer);
      this.drop(item, detail);
    }
    this.retries.clear();
    for (const item of this.items.splice(0)) this.drop(item, detail);
  }
}

function queued(message: OutgoingEvent, confirmations: Confirmation[]): QueuedMessage {
  return {
    messageId: message.messageId,
    routingKey: message.routingKey,
    body: Buffer.from(message.body),
    attempt: 1,
    confirmations,
  };
}

/**
 * The bus of the single-node daemon: the same ports and delivery semantics as the RabbitMQ bus,
 * without the wire. Each consumer has its own queue, delivered one message at a time in publish
 * order; retries wait their backoff and go to the back of the queue; dead letters stay
 * inspectable through {@link deadLetters}.
 *
 * What differs is durability: these queues are memory. A publish is therefore confirmed only
 * when every durable queue it reached is done with it, and a queue whose consumer stopped
 * refuses and drops what it held. The relay marks an event published only on that
 * confirmation, so an event a stop (or a crash) cut short stays unpublished in the outbox and
 * is delivered after the next start; the consumers' inbox absorbs a message they had already
 * handled. The price: a handler that keeps failing holds its batch's confirmation (up to the
 * publish timeout), where a broker would have confirmed on enqueue.
 */
export class InProcessBus implements MessageBus {
  private readonly queues = new Map<string, ConsumerQueue>();
  private readonly responders = new Map<string, RequestHandler>();
  private readonly dead: DeadLetter[] = [];
  private readonly unrouted: Array<{ messageId: string; routingKey: string }> = [];
  private readonly logger: BusLogger;
  private readonly backoff: RetryBackoff;
  private readonly requestTimeoutMs: number;
  private readonly publishTimeoutMs: number;
  private connected = false;
  private opened: boolean;
  /** Publishes waiting for {@link open}. */
  private held: Array<() => void> = [];

  constructor(private readonly options: InProcessBusOptions) {
    this.logger = options.logger ?? silentBusLogger;
    this.backoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.opened = !(options.holdUntilOpen ?? false);
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

  /** Starts routing the publishes held since construction (`holdUntilOpen`). */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    const held = this.held;
    this.held = [];
    for (const route of held) route();
  }

  /**
   * Routes each message to every queue bound to its routing key and confirms it once each
   * durable one is done with it (see the class comment); `ok: false` with reason
   * `disconnected` when a queue had no consumer or lost it first, `timeout` past `timeoutMs`. A
   * message no queue takes is confirmed at once and kept in a bounded list
   * ({@link unroutedMessages}), like the alternate exchange of the RabbitMQ topology: an event
   * nobody consumes yet is not an error, and must not hold back later events of its subject in
   * the relay.
   */
  publishBatch(
    messages: readonly OutgoingEvent[],
    options?: { readonly timeoutMs?: number },
  ): Promise<PublishOutcome[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<PublishOutcome[]>((resolve) => {
      const outcomes = new Array<PublishOutcome | undefined>(messages.length);
      let pending = messages.length;
      const finish = () => {
        clearTimeout(timer);
        resolve(outcomes as PublishOutcome[]);
      };
      const timeoutMs = options?.timeoutMs ?? this.publishTimeoutMs;
      const timer = setTimeout(() => {
        messages.forEach((message, i) => {
          outcomes[i] ??= {
            messageId: message.messageId,
            ok: false,
            reason: 'timeout',
            detail: `not handled by its consumers within ${timeoutMs} ms`,
          };
        });
        finish();
      }, timeoutMs);
      const route = () =>
        messages.forEach((message, i) => {
          const confirmation = new Confirmation(message.messageId, (outcome) => {
            if (outcomes[i] !== undefined) return;
            outcomes[i] = outcome;
            if (--pending === 0) finish();
          });
          this.route(message, confirmation);
        });
      if (this.opened || !this.connected) route();
      else this.held.push(route);
    });
  }

  private route(message: OutgoingEvent, confirmation: Confirmation): void {
    if (!this.connected) {
      confirmation.refuse('the bus is closed');
    } else {
      let targets = 0;
      for (const queue of this.queues.values()) {
        if (!queue.matches(message.routingKey)) continue;
        targets += 1;
        queue.accept(message, confirmation);
        this.kick(queue);
      }
      if (targets === 0) {
        this.unrouted.push({ messageId: message.messageId, routingKey: message.routingKey });
        if (this.unrouted.length > MAX_UNROUTED) this.unrouted.shift();
      }
    }
    // Routing is over: a message no durable queue holds is answered now.
    confirmation.done();
  }

  subscribe(spec: SubscriptionSpec, handler: EventHandler): Promise<Subscription> {
    this.assertConnected();
    const queue = this.queues.get(spec.consumer) ?? new ConsumerQueue(spec.consumer);
    this.queues.set(spec.consumer, queue);
    if (queue.active && !queue.active.cancelled) {
      return Promise.reject(new Error(`consumer ${spec.consumer} already has a subscription`));
    }
    for (const pattern of spec.patterns) queue.patterns.add(pattern);
    queue.transient = spec.transient ?? false;
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
        if (queue.active === active) {
          queue.active = undefined;
          queue.dropWaiting(`consumer ${queue.name} stopped before handling it`);
        }
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
      .then(() => answerInScope(meta, () => handler(pattern, jsonCopy(payload), meta)))
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

  /** Messages waiting in a consumer's queue (not counting the one in flight or retries). */
  queueDepth(consumer: string): number {
    return this.queues.get(consumer)?.items.length ?? 0;
  }

  /** A consumer's messages waiting out a retry backoff. */
  retriesPending(consumer: string): number {
    return this.queues.get(consumer)?.retries.size ?? 0;
  }

  /**
   * Stops: held and waiting messages are refused (their outbox rows stay unpublished), the
   * handlers in flight finish, requests and publishes fail from now on.
   */
  async close(): Promise<void> {
    this.connected = false;
    this.open();
    const draining: Promise<void>[] = [];
    for (const queue of this.queues.values()) {
      if (queue.active) queue.active.cancelled = true;
      queue.active = undefined;
      queue.dropWaiting('the bus closed before its consumer handled it');
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
      queue.finish(item);
      return;
    }
    let result: HandlerResult;
    try {
      result = await deliverInScope(active.handler, {
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
        queue.finish(item);
        return;
      case 'dead-letter':
        this.deadLetter(queue, item, 'rejected');
        queue.finish(item);
        return;
      case 'retry':
        if (queue.transient) {
          // A live view's failed delivery is dropped, as from the broker's transient queue.
          queue.finish(item);
          return;
        }
        if (item.attempt >= active.maxAttempts) {
          this.deadLetter(queue, item, 'max_attempts', `gave up after ${item.attempt} attempts`);
          queue.finish(item);
          return;
        }
        if (active.cancelled) {
          queue.drop(item, `consumer ${queue.name} stopped before a retry`);
          return;
        }
        this.scheduleRetry(queue, { ...item, attempt: item.attempt + 1 }, item.attempt);
        return;
    }
  }

  private scheduleRetry(queue: ConsumerQueue, item: QueuedMessage, failedAttempt: number): void {
    const timer = setTimeout(
      () => {
        queue.retries.delete(timer);
        queue.items.push(item);
        this.kick(queue);
      },
      retryDelayMs(failedAttempt, this.backoff),
    );
    queue.retries.set(timer, item);
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
