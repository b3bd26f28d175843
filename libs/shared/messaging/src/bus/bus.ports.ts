import type { EventEnvelope } from '@stratavore/contracts';

/** One message for the broker: `body` is the serialized, signed envelope. */
export interface OutgoingEvent {
  /** The envelope's `type`; used as the topic routing key. */
  readonly routingKey: string;
  /** The envelope's `id`; becomes the AMQP message id. */
  readonly messageId: string;
  readonly body: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export type PublishFailureReason =
  'nacked' | 'returned' | 'timeout' | 'channel_closed' | 'disconnected';

export type PublishOutcome =
  | { readonly messageId: string; readonly ok: true }
  | {
      readonly messageId: string;
      readonly ok: false;
      readonly reason: PublishFailureReason;
      readonly detail?: string;
    };

/**
 * Publishes to the topic exchange with publisher confirms. A message counts as published only
 * when the broker confirmed it; a nack, a `basic.return` (unroutable), a timeout or a channel
 * close yields `ok: false`. Never rejects for a per-message failure.
 */
export interface EventPublisher {
  publishBatch(
    messages: readonly OutgoingEvent[],
    options?: { readonly timeoutMs?: number },
  ): Promise<PublishOutcome[]>;
}

/** What a consumer tells the transport to do with a delivery. */
export type HandlerResult = 'ack' | 'retry' | 'dead-letter';

export interface DeliveredEvent {
  readonly envelope: EventEnvelope;
  readonly routingKey: string;
  /** 1 on first delivery, incremented on every retry. */
  readonly attempt: number;
}

export interface SubscriptionSpec {
  /** The consuming service; names its durable queue, retry queue and dead-letter queue. */
  readonly consumer: string;
  /** Topic patterns (`runner.*`, `budget.exceeded`, `#`). */
  readonly patterns: readonly string[];
  readonly prefetch?: number;
  /** Deliveries before a retried message is dead-lettered. */
  readonly maxAttempts?: number;
  /**
   * A live view's subscription (an event stream of one gateway instance): its queue is not
   * durable, bounded (oldest dropped first), has no retry or dead-letter queue (a failed
   * delivery is dropped), and the broker deletes it once no consumer used it for a while, so an
   * instance that is gone for good leaves nothing behind. Default `false`.
   */
  readonly transient?: boolean;
}

export type EventHandler = (event: DeliveredEvent) => Promise<HandlerResult>;

export interface Subscription {
  /** Stops taking deliveries and waits for the handlers in flight. */
  cancel(): Promise<void>;
}

/**
 * Delivers events to one consumer's durable queue. An envelope that fails schema or signature
 * validation is dead-lettered without reaching the handler. A handler that throws counts as
 * `retry`.
 */
export interface EventSubscriber {
  subscribe(spec: SubscriptionSpec, handler: EventHandler): Promise<Subscription>;
}

export interface RequestMeta {
  readonly correlationId: string;
}

export type RequestHandler = (
  pattern: string,
  payload: unknown,
  meta: RequestMeta,
) => Promise<unknown>;

/** Commands and queries: request/reply addressed to a service by name. */
export interface RequestClient {
  request<TResponse>(
    service: string,
    pattern: string,
    payload: unknown,
    options?: { readonly timeoutMs?: number; readonly correlationId?: string },
  ): Promise<TResponse>;
}

export interface RequestResponder {
  respond(service: string, handler: RequestHandler): Promise<Subscription>;
}

/** Everything a service needs from the wire; RabbitMQ in production, in-process in stratavored. */
export interface MessageBus
  extends EventPublisher, EventSubscriber, RequestClient, RequestResponder {
  /** Resolves when connected; rejects with a clear error when the broker cannot be reached. */
  connect(): Promise<void>;
  /** True while connected (readiness). */
  isConnected(): boolean;
  close(): Promise<void>;
}
