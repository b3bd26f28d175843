import pino, { type DestinationStream, type Logger } from 'pino';

import { currentCorrelationId } from './correlation';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** fatal | error | warn | info | debug | trace | silent. */
  readonly level: string;
  /** Written as `service` on every line. */
  readonly service: string;
  /** Where lines go; standard output by default. */
  readonly destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line with `time` (ISO 8601), `level` (label),
 * `service`, and `correlationId` whenever a correlation is in scope.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const correlationId = currentCorrelationId();
        return correlationId === undefined ? {} : { correlationId };
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
