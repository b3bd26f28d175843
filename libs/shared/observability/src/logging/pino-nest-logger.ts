import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Logger } from 'pino';

type PinoMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Sends Nest's own logs (bootstrap, routes, exceptions) through pino:
 * `NestFactory.create(AppModule, adapter, { logger: new PinoNestLogger(logger) })`.
 * Nest's trailing string argument becomes the `context` field.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest calls error(message, stack?, context?).
    const [stack, ...rest] = params;
    if (typeof stack === 'string' && stack.includes('\n')) {
      this.write('error', message, rest, { stack });
    } else {
      this.write('error', message, params);
    }
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest's level list maps onto pino's single threshold: the most verbose level given wins. */
  setLogLevels(levels: LogLevel[]): void {
    const order: Array<[LogLevel, string]> = [
      ['verbose', 'trace'],
      ['debug', 'debug'],
      ['log', 'info'],
      ['warn', 'warn'],
      ['error', 'error'],
      ['fatal', 'fatal'],
    ];
    const match = order.find(([nestLevel]) => levels.includes(nestLevel));
    this.logger.level = match ? match[1] : 'silent';
  }

  private write(
    level: PinoMethod,
    message: unknown,
    params: unknown[],
    extra: Record<string, unknown> = {},
  ): void {
    const last = params[params.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    const details = context === undefined ? params : params.slice(0, -1);
    const fields: Record<string, unknown> = { ...extra };
    if (context !== undefined) fields.context = context;
    if (details.length > 0) fields.details = details;
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
