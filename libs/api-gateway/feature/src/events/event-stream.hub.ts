import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { type EventEnvelope } from '@stratavore/contracts';
import {
  type DeliveredEvent,
  type EventSubscriber,
  MESSAGE_BUS,
  type Subscription,
  topicMatches,
} from '@stratavore/messaging';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';

/** One connected event-stream client. */
export interface EventStreamClient {
  /** Topic patterns the client asked for (`runner.*`); `#` for everything. */
  readonly patterns: readonly string[];
  send(event: EventEnvelope): void;
  /** Ends the client's stream (gateway shutting down). */
  close(): void;
}

/**
 * Fans the bus out to event-stream clients. One transient subscription per gateway instance
 * (`api-gateway.sse.<instance-id>`, pattern `#`), taken when the first client connects and kept
 * until shutdown: a bounded, non-durable queue the broker deletes once the instance is gone, so
 * neither disconnected clients nor instances that never come back leave queues filling up.
 */
@Injectable()
export class EventStreamHub implements BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStreamHub');
  private readonly clients = new Set<EventStreamClient>();
  private subscription?: Promise<Subscription>;
  private shuttingDown = false;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: EventSubscriber,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  get consumer(): string {
    return `api-gateway.sse.${this.options.instanceId}`;
  }

  /** Subscribes the instance's consumer if not yet done; rejects when the bus refuses. */
  async ready(): Promise<void> {
    this.subscription ??= this.bus
      .subscribe({ consumer: this.consumer, patterns: ['#'], transient: true }, (event) =>
        Promise.resolve(this.dispatch(event)),
      )
      .catch((error: unknown) => {
        this.subscription = undefined;
        throw error;
      });
    await this.subscription;
  }

  /** Adds a client; returns the function that removes it. */
  attach(client: EventStreamClient): () => void {
    if (this.shuttingDown) {
      client.close();
      return () => undefined;
    }
    this.clients.add(client);
    return () => {
      this.clients.delete(client);
    };
  }

  clientCount(): number {
    return this.clients.size;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    // Open streams would keep the HTTP server from closing.
    for (const client of this.clients) client.close();
    this.clients.clear();
    const subscription = this.subscription;
    this.subscription = undefined;
    if (subscription) await (await subscription).cancel();
  }

  private dispatch(event: DeliveredEvent): 'ack' {
    for (const client of this.clients) {
      if (!client.patterns.some((pattern) => topicMatches(pattern, event.routingKey))) continue;
      try {
        client.send(event.envelope);
      } catch (error) {
        this.logger.warn(`dropping an event-stream client: ${String(error)}`);
        this.clients.delete(client);
        client.close();
      }
    }
    // Events are a live view: nothing is retried for clients that were not there.
    return 'ack';
  }
}
