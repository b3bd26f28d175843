import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type Provider,
} from '@nestjs/common';
import { CLOCK, type Clock, SystemClock } from '@stratavore/core';
import {
  type EventPublisher,
  type OutboxStore,
  type OutboxWakeUpSource,
} from '@stratavore/messaging';

import { OutboxRelay } from './outbox-relay';
import { type OutboxRelayMetrics } from './outbox-relay.metrics';
import { type OutboxRelayOptionsInput } from './outbox-relay.options';

/** Required: the {@link OutboxStore} the relay drains (`PostgresOutboxStore` in production). */
export const OUTBOX_RELAY_STORE = Symbol('OUTBOX_RELAY_STORE');
/** Required: the {@link EventPublisher} it publishes through (the RabbitMQ bus in production). */
export const OUTBOX_RELAY_PUBLISHER = Symbol('OUTBOX_RELAY_PUBLISHER');
/** Optional: an {@link OutboxWakeUpSource} (`OutboxListener`); without it the relay only polls. */
export const OUTBOX_RELAY_WAKE_UPS = Symbol('OUTBOX_RELAY_WAKE_UPS');
/** Optional: {@link OutboxRelayMetrics} (`PrometheusOutboxRelayMetrics`); none by default. */
export const OUTBOX_RELAY_METRICS = Symbol('OUTBOX_RELAY_METRICS');
const OUTBOX_RELAY_OPTIONS = Symbol('OUTBOX_RELAY_OPTIONS');

export interface OutboxRelayModuleConfig {
  /** Modules exporting the tokens above (and `CLOCK` from `@stratavore/core`, optional). */
  readonly imports?: ModuleMetadata['imports'];
  /** Or the providers of those tokens, declared inside this module. */
  readonly providers?: Provider[];
  readonly options?: OutboxRelayOptionsInput;
}

/** Starts the relay once the application is up and drains it before shutdown (SIGTERM). */
@Injectable()
export class OutboxRelayLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(OutboxRelay) private readonly relay: OutboxRelay) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/**
 * Runs an {@link OutboxRelay} inside a Nest application. Several replicas may run it at once:
 * the store's leased claims keep them off each other's rows.
 */
@Module({})
export class OutboxRelayModule {
  static register(config: OutboxRelayModuleConfig = {}): DynamicModule {
    return {
      module: OutboxRelayModule,
      imports: config.imports ?? [],
      providers: [
        ...(config.providers ?? []),
        { provide: OUTBOX_RELAY_OPTIONS, useValue: config.options ?? {} },
        {
          provide: OutboxRelay,
          inject: [
            OUTBOX_RELAY_STORE,
            OUTBOX_RELAY_PUBLISHER,
            OUTBOX_RELAY_OPTIONS,
            { token: CLOCK, optional: true },
            { token: OUTBOX_RELAY_WAKE_UPS, optional: true },
            { token: OUTBOX_RELAY_METRICS, optional: true },
          ],
          useFactory: (
            store: OutboxStore,
            publisher: EventPublisher,
            options: OutboxRelayOptionsInput,
            clock?: Clock,
            wakeUps?: OutboxWakeUpSource,
            metrics?: OutboxRelayMetrics,
          ) =>
            new OutboxRelay({
              store,
              publisher,
              clock: clock ?? new SystemClock(),
              wakeUps: wakeUps ?? null,
              options,
              metrics,
              logger: new Logger('OutboxRelay'),
            }),
        },
        OutboxRelayLifecycle,
      ],
      exports: [OutboxRelay],
    };
  }
}
