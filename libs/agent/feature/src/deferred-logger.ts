import { type AgentLogger } from './agent-logger';

type Level = 'info' | 'warn' | 'error';

interface PendingLine {
  readonly level: Level;
  readonly fields: Record<string, unknown>;
  readonly message: string;
  /** When it was logged (milliseconds since the epoch). */
  readonly time: number;
}

/**
 * Builds the real logger (and `now`, the clock of its lines' `time`).
 */
export type AgentLoggerFactory = (now: () => number) => AgentLogger;

/**
 * A logger that creates the real one only when {@link DeferredLogger.start} is called: the agent
 * starts it after its first heartbeat, so that loading pino (~12-22 ms of CPU, 29 modules) is
 * not on the way to that heartbeat (docs/benchmarks.md, "launch"). Lines logged before then
 * are kept and written by the real logger when it starts, in order and with the time they were
 * logged at (the factory's clock); later lines go straight to it. The fields objects are kept
 * as given: callers pass fresh ones.
 */
export class DeferredLogger implements AgentLogger {
  private real: AgentLogger | null = null;
  private pending: PendingLine[] = [];
  /** The time of the line being written by `start`, else undefined (now). */
  private replaying: number | undefined;

  constructor(private readonly factory: AgentLoggerFactory) {}

  info(fields: Record<string, unknown>, message: string): void {
    this.log('info', fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.log('warn', fields, message);
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.log('error', fields, message);
  }

  /** Creates the real logger and writes the lines kept so far. Idempotent. */
  start(): AgentLogger {
    if (this.real !== null) return this.real;
    const real = this.factory(() => this.replaying ?? Date.now());
    try {
      for (const line of this.pending) {
        this.replaying = line.time;
        real[line.level](line.fields, line.message);
      }
    } finally {
      this.replaying = undefined;
    }
    this.pending = [];
    this.real = real;
    return real;
  }

  private log(level: Level, fields: Record<string, unknown>, message: string): void {
    if (this.real !== null) this.real[level](fields, message);
    else this.pending.push({ level, fields, message, time: Date.now() });
  }
}

export interface DeferredPinoLoggerOptions {
  /** fatal | error | warn | info | debug | trace | silent. */
  readonly level: string;
  readonly runnerId: string;
  /** Where lines go (the agent: stderr). */
  readonly destination: NodeJS.WritableStream;
}

/** The part of `@stratavore/logging` the agent uses, required when the logger starts. */
interface LoggingModule {
  createLogger(options: {
    level: string;
    service: string;
    destination: NodeJS.WritableStream;
    now: () => number;
  }): { child(bindings: Record<string, unknown>): AgentLogger };
}

/**
 * The agent's logger: `@stratavore/logging`'s pino logger (service `stratavore-agent`, the
 * runner id on every line), loaded and created when {@link DeferredLogger.start} is called.
 */
export function deferredPinoLogger(options: DeferredPinoLoggerOptions): DeferredLogger {
  return new DeferredLogger((now) => {
    // A require, not an import: loading pino is what is deferred.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const logging = require('@stratavore/logging') as LoggingModule;
    return logging
      .createLogger({
        level: options.level,
        service: 'stratavore-agent',
        destination: options.destination,
        now,
      })
      .child({ runnerId: options.runnerId });
  });
}
