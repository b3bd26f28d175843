import 'reflect-metadata';

import { join } from 'node:path';

import { Module } from '@nestjs/common';
import { ApiGatewayModule, gatewayOptionsFromEnv } from '@stratavore/api-gateway';
import { BudgetServiceModule, budgetServiceOptionsFromEnv } from '@stratavore/budget-service';
import { loadConfig } from '@stratavore/config';
import {
  createDatabase,
  defaultDataDir,
  defaultPostgresDataDir,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from '@stratavore/embedded-postgres';
import { HeartbeatIngestModule, heartbeatIngestOptionsFromEnv } from '@stratavore/heartbeat-ingest';
import { InProcessBus, type MessageBus, RabbitMqBus } from '@stratavore/messaging';
import { createLogger, type Logger } from '@stratavore/observability';
import { outboxRelayRuntimeModule } from '@stratavore/outbox-relay';
import {
  defaultLaunchEstimateFromEnv,
  RunnerManagerModule,
  runnerRestartOptionsFromEnv,
} from '@stratavore/runner-manager';
import {
  bootstrapService,
  busLoggerFrom,
  exitOnStartupFailure,
  ServiceRuntimeModule,
} from '@stratavore/service-runtime';
import { SessionStoreModule, sessionStoreOptionsFromEnv } from '@stratavore/session-store';

import { connectCli } from './cli-access';
import { type DaemonConfig, daemonConfigSchema } from './daemon-config';

const SERVICE = 'stratavored';
const DATABASE_NAME = 'stratavore';
/** The agent is built beside this app: dist/apps/agent/apps/agent/src/main.js. */
const BUNDLED_AGENT = join(__dirname, '../../../../agent/apps/agent/src/main.js');

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
  // Publishes wait until every module subscribed (main opens the bus after start-up): a backlog
  // the relay finds at start must not be confirmed as unrouted before its consumers are there.
  return new InProcessBus({
    signingKey: config.EVENT_SIGNING_KEY,
    logger: busLoggerFrom(logger),
    holdUntilOpen: true,
  });
}

/**
 * The single-node daemon: every service module in one process, on an embedded PostgreSQL and
 * the in-process bus unless DATABASE_URL / AMQP_URL point elsewhere. On SIGTERM or Ctrl-C the
 * application drains first (the outbox relay finishes its batch, heartbeats are flushed), then
 * PostgreSQL stops. Runners' agents are detached processes: they outlive a restart and are
 * picked up again by their heartbeats.
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
    let ownUrl: string | null = null;
    const heartbeatUrl = () => {
      if (ownUrl === null) throw new Error('the daemon is not listening yet');
      return ownUrl;
    };

    const service = await bootstrapService({
      service: SERVICE,
      module: daemonModule(config, database.url, bus, logger, heartbeatUrl),
      logger,
      host: config.HTTP_HOST,
      port: config.HTTP_PORT,
      afterShutdown: async () => {
        if (database.embedded) {
          logger.info('stopping the embedded PostgreSQL');
          await database.embedded.stop();
        }
      },
    });
    ownUrl = config.HEARTBEAT_URL ?? service.url;
    if (bus instanceof InProcessBus) bus.open();
    await connectCli(service, logger);
  } catch (error) {
    if (embedded) await embedded.stop().catch(() => undefined);
    exitOnStartupFailure(bootLogger, SERVICE)(error);
  }
}

function daemonModule(
  config: DaemonConfig,
  databaseUrl: string,
  bus: MessageBus,
  logger: Logger,
  heartbeatUrl: () => string,
) {
  @Module({
    imports: [
      ServiceRuntimeModule.forRoot({ service: SERVICE, databaseUrl, bus, logger }),
      outboxRelayRuntimeModule({ databaseUrl, env: config }),
      RunnerManagerModule.forRoot({
        databaseUrl,
        signingKey: config.EVENT_SIGNING_KEY,
        launcher: {
          agentMainPath: config.AGENT_MAIN_PATH ?? BUNDLED_AGENT,
          heartbeatUrl,
          logDir: config.RUNNER_LOG_DIR ?? join(defaultDataDir(process.env), 'runners'),
          worktreeDir: config.WORKTREE_DIR ?? join(defaultDataDir(process.env), 'worktrees'),
          heartbeatIntervalMs: config.HEARTBEAT_INTERVAL,
        },
        budgets: config.BUDGETS,
        budgetRequestTimeoutMs: config.BUDGET_REQUEST_TIMEOUT,
        defaultEstimate: defaultLaunchEstimateFromEnv(config),
        restarts: runnerRestartOptionsFromEnv(config),
      }),
      HeartbeatIngestModule.forRoot(
        heartbeatIngestOptionsFromEnv(databaseUrl, config.EVENT_SIGNING_KEY, config),
      ),
      BudgetServiceModule.forRoot(
        budgetServiceOptionsFromEnv(databaseUrl, config.EVENT_SIGNING_KEY, config),
      ),
      SessionStoreModule.forRoot(
        sessionStoreOptionsFromEnv(
          databaseUrl,
          config.EVENT_SIGNING_KEY,
          config,
          defaultDataDir(process.env),
        ),
      ),
      ApiGatewayModule.forRoot(gatewayOptionsFromEnv(databaseUrl, config)),
    ],
  })
  class DaemonModule {}
  return DaemonModule;
}

void main();
