import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { loadConfig } from '@stratavore/config';
import { type BusLogger, RabbitMqBus } from '@stratavore/messaging';
import { createLogger, type Logger } from '@stratavore/observability';
import { type z } from 'zod';

import { bootstrapService, exitOnStartupFailure, type RunningService } from './bootstrap-service';
import { type ServiceConfig, serviceConfigSchema } from './service-config';
import { ServiceRuntimeModule } from './service-runtime.module';

export interface ServiceSpec<TExtra extends z.ZodRawShape> {
  /** `runner-manager`, `outbox-relay`, ... */
  readonly service: string;
  readonly defaultHttpPort: number;
  /** The service's own variables, validated together with the common ones (one message). */
  readonly config?: TExtra;
  /** The service's own modules, built from its validated configuration. */
  readonly imports?: (
    config: ServiceConfig & z.output<z.ZodObject<TExtra>>,
  ) => Array<DynamicModule | Type<unknown>>;
}

/** The bus reports through the process logger. */
export function busLoggerFrom(logger: Logger): BusLogger {
  const bus = logger.child({ component: 'bus' });
  return {
    log: (message) => bus.info(message),
    warn: (message) => bus.warn(message),
    error: (message) => bus.error(message),
  };
}

/**
 * The whole `main.ts` of a separately deployed service: validate the environment (one message
 * naming every problem), create the logger and the RabbitMQ bus, compose the runtime with the
 * service's modules, listen, and stop cleanly on SIGTERM.
 */
export async function runService<TExtra extends z.ZodRawShape = Record<never, never>>(
  spec: ServiceSpec<TExtra>,
): Promise<RunningService> {
  const bootLogger = createLogger({ level: 'info', service: spec.service });
  try {
    const schema = serviceConfigSchema({ httpPort: spec.defaultHttpPort }).extend(
      spec.config ?? ({} as TExtra),
    );
    const config = loadConfig(schema, process.env, { app: spec.service }) as ServiceConfig &
      z.output<z.ZodObject<TExtra>>;
    const logger = createLogger({ level: config.LOG_LEVEL, service: spec.service });
    const bus = new RabbitMqBus({
      url: config.AMQP_URL,
      signingKey: config.EVENT_SIGNING_KEY,
      serviceName: spec.service,
      logger: busLoggerFrom(logger),
    });

    @Module({
      imports: [
        ServiceRuntimeModule.forRoot({
          service: spec.service,
          databaseUrl: config.DATABASE_URL,
          bus,
          logger,
        }),
        ...(spec.imports?.(config) ?? []),
      ],
    })
    class ServiceModule {}

    return await bootstrapService({
      service: spec.service,
      module: ServiceModule,
      logger,
      host: config.HTTP_HOST,
      port: config.HTTP_PORT,
    });
  } catch (error) {
    return exitOnStartupFailure(bootLogger, spec.service)(error);
  }
}
