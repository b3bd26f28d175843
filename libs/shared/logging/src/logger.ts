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
  /**
   * The clock of each line's `time` (milliseconds since the epoch); `Date.now` by default. A
   * logger that writes lines logged before it existed gives them their own time (the agent's,
   * which loads pino after its first heartbeat).
   */
  readonly now?: () => number;
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
      timestamp:
        options.now === undefined
          ? pino.stdTimeFunctions.isoTime
          : () => `,"time":"${new Date(options.now?.() ?? Date.now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const correlationId = currentCorrelationId();
        return correlationId === undefined ? {} : { correlationId };
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
