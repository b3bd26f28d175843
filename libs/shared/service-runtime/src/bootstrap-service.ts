import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Logger, PinoNestLogger, registerHttpCorrelation } from '@stratavore/observability';

import { tuneGarbageCollection } from './garbage-collection';

export interface BootstrapServiceOptions {
  readonly service: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly module: new (...args: any[]) => unknown;
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  /** Seconds Nest may take to shut down after SIGTERM before the process is forced out. */
  readonly shutdownTimeoutMs?: number;
  /** Runs after the app stopped (the daemon stops its embedded PostgreSQL here). */
  readonly afterShutdown?: () => Promise<void>;
}

export interface RunningService {
  readonly app: INestApplication;
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:7411`. */
  readonly url: string;
  /** Stops the app as SIGTERM does (used by tests). */
  stop(): Promise<void>;
}

function listeningUrl(app: NestFastifyApplication, host: string): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
}

/**
 * Creates the service's Nest application on Fastify with pino logging and request correlation
 * (in a process whose garbage collection is tuned for short requests, {@link tuneGarbageCollection}),
 * listens, and stops cleanly on SIGTERM or SIGINT: stop taking requests, let shutdown hooks
 * finish the work in flight, close connections, run `afterShutdown`, exit 0 (1 when the
 * shutdown failed or exceeded its time limit).
 */
export async function bootstrapService(options: BootstrapServiceOptions): Promise<RunningService> {
  const { logger } = options;
  tuneGarbageCollection();
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module,
    new FastifyAdapter({ trustProxy: true }),
    { logger: new PinoNestLogger(logger), bufferLogs: true, abortOnError: false },
  );
  registerHttpCorrelation(app);
  await app.listen(options.port, options.host);
  const url = listeningUrl(app, options.host);
  logger.info({ url }, `${options.service} listening on ${url}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await app.close();
      await options.afterShutdown?.();
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    logger.info({ signal }, 'shutting down: no new work, finishing what is in flight');
    const limit = options.shutdownTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      logger.error({ limitMs: limit }, 'shutdown took too long; exiting');
      logger.flush();
      process.exit(1);
    }, limit);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exitCode = 0;
        clearTimeout(timer);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exitCode = 1;
        clearTimeout(timer);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  return { app, url, stop };
}

/** Logs a start-up failure in one readable line and exits 1 (no stack for config errors). */
export function exitOnStartupFailure(logger: Logger, service: string) {
  return (error: unknown): never => {
    const message = error instanceof Error ? error.message : String(error);
    const isConfig = error instanceof Error && error.name === 'ConfigError';
    // The logger already names the service (its base); a config error needs no stack.
    if (isConfig) logger.fatal(`${service} failed to start: ${message}`);
    else logger.fatal({ err: error }, `${service} failed to start: ${message}`);
    logger.flush();
    process.exit(1);
  };
}
