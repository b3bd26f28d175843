import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CLOCK, ID_GENERATOR, RandomIdGenerator, SystemClock } from '@stratavore/core';
import {
  createMessagingDataSource,
  MESSAGE_BUS,
  type MessageBus,
  MESSAGING_DATA_SOURCE,
} from '@stratavore/messaging';
import {
  HealthModule,
  type Logger,
  MetricsModule,
  type ReadinessCheck,
} from '@stratavore/observability';
import { databaseReadinessCheck, runMigrations } from '@stratavore/persistence';

import { SERVICE_LOGGER } from './runtime.tokens';

type MessagingDataSource = ReturnType<typeof createMessagingDataSource>;

export interface ServiceRuntimeOptions {
  /** The service's name: `service` label on metrics, connection names in PostgreSQL/RabbitMQ. */
  readonly service: string;
  readonly databaseUrl: string;
  /** Created by the app (RabbitMQ or in-process); connected here, closed on shutdown. */
  readonly bus: MessageBus;
  readonly logger: Logger;
  /** Connections in the messaging pool (default 5). */
  readonly poolSize?: number;
}

/** Readiness of the bus: connected now. */
export function busReadinessCheck(bus: MessageBus): ReadinessCheck {
  return {
    name: 'broker',
    check: () =>
      bus.isConnected()
        ? Promise.resolve()
        : Promise.reject(new Error('not connected to the message broker')),
  };
}

/**
 * Closes the bus and the database pool last: Nest calls `onApplicationShutdown` after every
 * `beforeApplicationShutdown` hook, where work in flight (the outbox relay) drains.
 */
@Injectable()
class ServiceRuntimeShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(MESSAGING_DATA_SOURCE) private readonly dataSource: MessagingDataSource,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'closing the message bus and database connections');
    await this.bus.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * What every Stratavore process stands on: the clock and id sources, the message bus
 * (connected at start-up), the `messaging` schema (migrated at start-up under the migration
 * lock), `/metrics`, and `/health/live` + `/health/ready` (ready when the database answers and
 * the bus is connected).
 */
@Module({})
export class ServiceRuntimeModule {
  static forRoot(options: ServiceRuntimeOptions): DynamicModule {
    return {
      module: ServiceRuntimeModule,
      global: true,
      imports: [
        MetricsModule.forRoot({ service: options.service }),
        HealthModule.forRootAsync({
          inject: [MESSAGING_DATA_SOURCE, MESSAGE_BUS],
          useFactory: (dataSource: MessagingDataSource, bus: MessageBus) => [
            databaseReadinessCheck(dataSource),
            busReadinessCheck(bus),
          ],
        }),
      ],
      providers: [
        { provide: CLOCK, useValue: new SystemClock() },
        { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
        { provide: SERVICE_LOGGER, useValue: options.logger },
        {
          provide: MESSAGE_BUS,
          useFactory: async () => {
            await options.bus.connect();
            return options.bus;
          },
        },
        {
          provide: MESSAGING_DATA_SOURCE,
          useFactory: async () => {
            const dataSource = createMessagingDataSource({
              url: options.databaseUrl,
              poolSize: options.poolSize ?? 5,
              applicationName: options.service,
            });
            await dataSource.initialize();
            const applied = await runMigrations(dataSource);
            if (applied.length > 0)
              options.logger.info({ applied }, 'messaging migrations applied');
            return dataSource;
          },
        },
        ServiceRuntimeShutdown,
      ],
      exports: [CLOCK, ID_GENERATOR, SERVICE_LOGGER, MESSAGE_BUS, MESSAGING_DATA_SOURCE],
    };
  }
}
