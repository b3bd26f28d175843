import 'reflect-metadata';

import { Module } from '@nestjs/common';
import { loadConfig } from '@stratavore/config';
import {
  createDatabase,
  defaultPostgresDataDir,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from '@stratavore/embedded-postgres';
import { InProcessBus, type MessageBus, RabbitMqBus } from '@stratavore/messaging';
import { createLogger, type Logger } from '@stratavore/observability';
import { outboxRelayRuntimeModule } from '@stratavore/outbox-relay';
import {
  bootstrapService,
  busLoggerFrom,
  exitOnStartupFailure,
  ServiceRuntimeModule,
} from '@stratavore/service-runtime';

import { type DaemonConfig, daemonConfigSchema } from './daemon-config';

const SERVICE = 'stratavored';
const DATABASE_NAME = 'stratavore';

async function startDatabase(
  config: DaemonConfig,
  logger: Logger,
): Promise<{ url: string; embedded: EmbeddedPostgres | null }> {
  if (config.DATABASE_URL) {
    logger.info('using the PostgreSQL given by DATABASE_URL');
    return { url: config.DATABASE_URL, embedded: null };
  }
  const dataDir = defaultPostgresDataDir(process.env);
  const pgLogger = logger.child({ component: 'postgres' });
  const embedded = await startEmbeddedPostgres({
    dataDir,
    onLog: (line) => pgLogger.debug(line.trimEnd()),
  });
  logger.info({ dataDir, port: embedded.port, pid: embedded.pid }, 'embedded PostgreSQL is up');
  try {
    return { url: await createDatabase(embedded.url, DATABASE_NAME), embedded };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

function createBus(config: DaemonConfig, logger: Logger): MessageBus {
  if (config.AMQP_URL) {
    return new RabbitMqBus({
      url: config.AMQP_URL,
      signingKey: config.EVENT_SIGNING_KEY,
      serviceName: SERVICE,
      logger: busLoggerFrom(logger),
    });
  }
  return new InProcessBus({ signingKey: config.EVENT_SIGNING_KEY, logger: busLoggerFrom(logger) });
}

/**
 * The single-node daemon: every service module in one process, on an embedded PostgreSQL and
 * the in-process bus unless DATABASE_URL / AMQP_URL point elsewhere. On SIGTERM or Ctrl-C the
 * application drains first (the outbox relay finishes its batch), then PostgreSQL stops.
 */
async function main(): Promise<void> {
  const bootLogger = createLogger({ level: 'info', service: SERVICE });
  let embedded: EmbeddedPostgres | null = null;
  try {
    const config = loadConfig(daemonConfigSchema, process.env, { app: SERVICE });
    const logger = createLogger({ level: config.LOG_LEVEL, service: SERVICE });
    const database = await startDatabase(config, logger);
    embedded = database.embedded;
    const bus = createBus(config, logger);

    @Module({
      imports: [
        ServiceRuntimeModule.forRoot({ service: SERVICE, databaseUrl: database.url, bus, logger }),
        outboxRelayRuntimeModule({ databaseUrl: database.url, env: config }),
      ],
    })
    class DaemonModule {}

    const stopDatabase = embedded;
    await bootstrapService({
      service: SERVICE,
      module: DaemonModule,
      logger,
      host: config.HTTP_HOST,
      port: config.HTTP_PORT,
      afterShutdown: async () => {
        if (stopDatabase) {
          logger.info('stopping the embedded PostgreSQL');
          await stopDatabase.stop();
        }
      },
    });
  } catch (error) {
    if (embedded) await embedded.stop().catch(() => undefined);
    exitOnStartupFailure(bootLogger, SERVICE)(error);
  }
}

void main();
