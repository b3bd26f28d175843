import { type DynamicModule } from '@nestjs/common';
import { duration } from '@stratavore/config';
import {
  MESSAGE_BUS,
  type MessageBus,
  MESSAGING_DATA_SOURCE,
  OutboxListener,
  PostgresOutboxStore,
} from '@stratavore/messaging';
import { metricsRegistry } from '@stratavore/observability';
import { z } from 'zod';

import { PrometheusOutboxRelayMetrics } from './outbox-relay.metrics';
import {
  OUTBOX_RELAY_METRICS,
  OUTBOX_RELAY_PUBLISHER,
  OUTBOX_RELAY_STORE,
  OUTBOX_RELAY_WAKE_UPS,
  OutboxRelayModule,
} from './outbox-relay.module';
import { type OutboxRelayOptionsInput } from './outbox-relay.options';

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The relay's environment variables, all optional: `OUTBOX_BATCH_SIZE`, `OUTBOX_WINDOW`,
 * `OUTBOX_PUBLISH_TIMEOUT`, `OUTBOX_MAX_ATTEMPTS`, `OUTBOX_BACKOFF_BASE`, `OUTBOX_BACKOFF_MAX`,
 * `OUTBOX_IDLE_POLL_INTERVAL` (durations as `500ms`, `10s`, `5m` or milliseconds) and
 * `OUTBOX_LEASE` (how long a claimed batch keeps other relays off its rows).
 */
export const outboxRelayEnvSchema = z.object({
  OUTBOX_BATCH_SIZE: count(1, 10_000).optional(),
  OUTBOX_WINDOW: count(1, 64).optional(),
  OUTBOX_PUBLISH_TIMEOUT: duration().optional(),
  OUTBOX_MAX_ATTEMPTS: count(1, 1_000).optional(),
  OUTBOX_BACKOFF_BASE: duration().optional(),
  OUTBOX_BACKOFF_MAX: duration().optional(),
  OUTBOX_IDLE_POLL_INTERVAL: duration().optional(),
  OUTBOX_LEASE: duration().optional(),
});

export type OutboxRelayEnv = z.output<typeof outboxRelayEnvSchema>;

export interface OutboxRelayRuntimeOptions {
  /** The database the `messaging.outbox` lives in; the wake-up listener opens its own connection. */
  readonly databaseUrl: string;
  readonly env?: OutboxRelayEnv;
}

function relayOptions(env: OutboxRelayEnv): OutboxRelayOptionsInput {
  return {
    batchSize: env.OUTBOX_BATCH_SIZE,
    window: env.OUTBOX_WINDOW,
    publishTimeoutMs: env.OUTBOX_PUBLISH_TIMEOUT,
    maxAttempts: env.OUTBOX_MAX_ATTEMPTS,
    backoffBaseMs: env.OUTBOX_BACKOFF_BASE,
    backoffMaxMs: env.OUTBOX_BACKOFF_MAX,
    idlePollIntervalMs: env.OUTBOX_IDLE_POLL_INTERVAL,
  };
}

/**
 * The relay as a process runs it: drains `messaging.outbox` (from the `MESSAGING_DATA_SOURCE`
 * provider) to the `MESSAGE_BUS`, woken by LISTEN/NOTIFY, with its metrics on `/metrics`.
 */
export function outboxRelayRuntimeModule(options: OutboxRelayRuntimeOptions): DynamicModule {
  const env = options.env ?? {};
  return OutboxRelayModule.register({
    options: relayOptions(env),
    providers: [
      {
        provide: OUTBOX_RELAY_STORE,
        inject: [MESSAGING_DATA_SOURCE],
        useFactory: (dataSource: ConstructorParameters<typeof PostgresOutboxStore>[0]) =>
          new PostgresOutboxStore(dataSource, { leaseMs: env.OUTBOX_LEASE }),
      },
      {
        provide: OUTBOX_RELAY_PUBLISHER,
        inject: [MESSAGE_BUS],
        useFactory: (bus: MessageBus) => bus,
      },
      {
        provide: OUTBOX_RELAY_WAKE_UPS,
        useFactory: () =>
          new OutboxListener({
            url: options.databaseUrl,
            applicationName: 'outbox-relay-listener',
          }),
      },
      {
        provide: OUTBOX_RELAY_METRICS,
        useFactory: () => new PrometheusOutboxRelayMetrics(metricsRegistry),
      },
    ],
  });
}
