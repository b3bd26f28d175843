import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import {
  BaseRpcContext,
  type CustomTransportStrategy,
  type MessageHandler,
  Server,
} from '@nestjs/microservices';
import { type EventEnvelope } from '@stratavore/contracts';
import { lastValueFrom, type Observable, throwError } from 'rxjs';

import { BusError, BusErrorCode } from './bus.errors';
import { DEFAULT_MAX_ATTEMPTS, topicMatches } from './bus.policy';
import {
  type DeliveredEvent,
  type HandlerResult,
  type MessageBus,
  type RequestMeta,
  type Subscription,
} from './bus.ports';

export interface BusTransportOptions {
  /** The service's name: its request queue is `rpc.<service>`. */
  readonly service: string;
  /** The consumer (event queue) name; defaults to `service`. */
  readonly consumer?: string;
  readonly prefetch?: number;
  readonly maxAttempts?: number;
  /** Connect the bus in listen() when it is not connected yet (default true). */
  readonly connect?: boolean;
}

/** The context handlers get with `@Ctx()` for events. */
export class BusEventContext extends BaseRpcContext<[DeliveredEvent]> {
  getEvent(): DeliveredEvent {
    return this.args[0];
  }
}

/** The context handlers get with `@Ctx()` for requests. */
export class BusRequestContext extends BaseRpcContext<[string, RequestMeta]> {
  getPattern(): string {
    return this.args[0];
  }
  getCorrelationId(): string {
    return this.args[1].correlationId;
  }
}

/**
 * Nest's default RPC exception filter turns every error that is not an `RpcException` into
 * "Internal server error", losing the module's error code. Register this filter
 * (`app.useGlobalFilters(new BusExceptionFilter())`) so typed exceptions reach the bus intact
 * and travel to the caller as `{ code, message, details }`.
 */
@Catch()
export class BusExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

type EventHandlerLink = Pick<MessageHandler, 'next'> &
  ((data: unknown, context?: unknown) => Promise<unknown>);

type TransportEvents = { error: (error: Error) => void };

const severity: Record<HandlerResult, number> = { ack: 0, retry: 1, 'dead-letter': 2 };

function isHandlerResult(value: unknown): value is HandlerResult {
  return value === 'ack' || value === 'retry' || value === 'dead-letter';
}

/**
 * A Nest microservice transport over either bus. Every `@EventPattern(type)` (topic patterns
 * with `*` and `#` allowed) becomes a binding of one subscription for the service's consumer;
 * the handler gets the verified envelope as payload and may return a {@link HandlerResult}
 * (anything else means `ack`; a throw means `retry`). Every `@MessagePattern(pattern)` is
 * served behind `respond(service)`; a throw travels back as a `RemoteRequestError`.
 *
 * The transport does not close the bus: whoever provides MESSAGE_BUS owns its lifecycle.
 */
export class BusTransport extends Server<TransportEvents> implements CustomTransportStrategy {
  private readonly subscriptions: Subscription[] = [];
  private readonly errorListeners: ((error: Error) => void)[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly options: BusTransportOptions,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    const subscriptions = this.subscriptions.splice(0);
    await Promise.all(subscriptions.map((s) => s.cancel()));
  }

  on<K extends keyof TransportEvents>(event: K, callback: TransportEvents[K]): void {
    if (event === 'error') this.errorListeners.push(callback);
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private async start(): Promise<void> {
    if ((this.options.connect ?? true) && !this.bus.isConnected()) await this.bus.connect();
    const eventPatterns: string[] = [];
    let hasRequests = false;
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler) eventPatterns.push(pattern);
      else hasRequests = true;
    }
    if (eventPatterns.length > 0) {
      this.subscriptions.push(
        await this.bus.subscribe(
          {
            consumer: this.options.consumer ?? this.options.service,
            patterns: eventPatterns,
            prefetch: this.options.prefetch,
            maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          },
          (event) => this.dispatchEvent(event, eventPatterns),
        ),
      );
    }
    if (hasRequests) {
      this.subscriptions.push(
        await this.bus.respond(this.options.service, (pattern, payload, meta) =>
          this.dispatchRequest(pattern, payload, meta),
        ),
      );
    }
  }

  private async dispatchEvent(event: DeliveredEvent, patterns: string[]): Promise<HandlerResult> {
    const context = new BusEventContext([event]);
    let result: HandlerResult = 'ack';
    for (const pattern of patterns) {
      if (!topicMatches(pattern, event.envelope.type)) continue;
      // Nest chains several handlers of one event pattern through `next`.
      let handler: EventHandlerLink | null | undefined = this.getHandlerByPattern(pattern);
      for (; handler; handler = handler.next) {
        const outcome = await this.invoke<EventEnvelope>(handler, event.envelope, context).catch(
          (error: unknown) => {
            this.report(error);
            throw error;
          },
        );
        const handlerResult = isHandlerResult(outcome) ? outcome : 'ack';
        if (severity[handlerResult] > severity[result]) result = handlerResult;
      }
    }
    return result;
  }

  private async dispatchRequest(pattern: string, payload: unknown, meta: RequestMeta) {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler || handler.isEventHandler) {
      throw Object.assign(
        new BusError(
          BusErrorCode.NoResponder,
          `${this.options.service} has no handler for ${pattern}`,
        ),
        { code: 'UNKNOWN_PATTERN' },
      );
    }
    return this.invoke(handler, payload, new BusRequestContext([pattern, meta]));
  }

  private async invoke<T>(
    handler: (data: T, context?: unknown) => Promise<unknown>,
    data: T,
    context: BaseRpcContext<unknown[]>,
  ): Promise<unknown> {
    const result: unknown = await handler(data, context);
    return lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }

  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    for (const listener of this.errorListeners) listener(err);
  }
}
