import { gatewayEnvSchema } from '@stratavore/api-gateway';
import { budgetServiceConfigSchema } from '@stratavore/budget-service';
import { commonConfigSchema, url } from '@stratavore/config';
import { heartbeatIngestConfigSchema } from '@stratavore/heartbeat-ingest';
import { outboxRelayEnvSchema } from '@stratavore/outbox-relay';
import { runnerManagerEnvSchema } from '@stratavore/runner-manager';
import { httpPort } from '@stratavore/service-runtime';
import { sessionStoreConfigSchema } from '@stratavore/session-store';
import { z } from 'zod';

/**
 * The daemon's environment: every service's own variables plus these. Unlike the separate
 * services, `DATABASE_URL` and `AMQP_URL` are optional: without them the daemon starts its own
 * PostgreSQL and uses the in-process bus.
 */
export const daemonConfigSchema = commonConfigSchema.extend({
  ...outboxRelayEnvSchema.shape,
  ...runnerManagerEnvSchema.shape,
  ...heartbeatIngestConfigSchema.shape,
  ...budgetServiceConfigSchema.shape,
  ...sessionStoreConfigSchema.shape,
  ...gatewayEnvSchema.shape,
  /** `DATABASE_URL`: use this PostgreSQL instead of the embedded one. */
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  /** `AMQP_URL`: use RabbitMQ instead of the in-process bus. */
  AMQP_URL: url(['amqp', 'amqps']).optional(),
  /** `HTTP_PORT`: the API, /health and /metrics (default 7411; 0 picks a free port). */
  HTTP_PORT: httpPort().default(7411),
  /** `HTTP_HOST`: loopback by default; the daemon is a single-user, single-machine server. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** `STRATAVORE_DATA_DIR`: where the embedded PostgreSQL and the runner logs live. */
  STRATAVORE_DATA_DIR: z.string().min(1).optional(),
});

export type DaemonConfig = z.output<typeof daemonConfigSchema>;
