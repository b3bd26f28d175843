import { Writable } from 'node:stream';

import { type AgentLogger } from './agent-logger';
import { DeferredLogger, deferredPinoLogger } from './deferred-logger';

interface Written {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
  readonly time: number;
}

/** A real logger that records each line with the time its clock gave. */
function recordingFactory() {
  const written: Written[] = [];
  let created = 0;
  const factory = (now: () => number): AgentLogger => {
    created++;
    const write = (level: string) => (fields: Record<string, unknown>, message: string) =>
      written.push({ level, fields, message, time: now() });
    return { info: write('info'), warn: write('warn'), error: write('error') };
  };
  return { factory, written, created: () => created };
}

describe('DeferredLogger', () => {
  afterEach(() => jest.useRealTimers());

  it('creates no logger until started, then writes the kept lines in order with their own time', () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-24T18:00:00.000Z') });
    const real = recordingFactory();
    const logger = new DeferredLogger(real.factory);
    logger.info({ pid: 1 }, 'child started');
    jest.setSystemTime(Date.parse('2026-11-24T18:00:00.250Z'));
    logger.warn({ seq: 1 }, 'heartbeat-ingest unreachable');
    expect(real.created()).toBe(0);

    jest.setSystemTime(Date.parse('2026-11-24T18:00:01.000Z'));
    logger.start();
    logger.error({ seq: 2 }, 'after the start');
    logger.start();

    expect(real.created()).toBe(1);
    expect(real.written).toEqual([
      {
        level: 'info',
        fields: { pid: 1 },
        message: 'child started',
        time: Date.parse('2026-11-24T18:00:00.000Z'),
      },
      {
        level: 'warn',
        fields: { seq: 1 },
        message: 'heartbeat-ingest unreachable',
        time: Date.parse('2026-11-24T18:00:00.250Z'),
      },
      {
        level: 'error',
        fields: { seq: 2 },
        message: 'after the start',
        time: Date.parse('2026-11-24T18:00:01.000Z'),
      },
    ]);
  });
});

describe('deferredPinoLogger', () => {
  afterEach(() => jest.useRealTimers());

  it('writes the pino lines of the agent, the early ones with the time they were logged at', () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-24T18:00:00.000Z') });
    const lines: unknown[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')));
        done();
      },
    });
    const logger = deferredPinoLogger({ level: 'warn', runnerId: 'r1', destination });
    logger.warn({ seq: 1 }, 'early');
    logger.info({ seq: 1 }, 'below the level');
    jest.setSystemTime(Date.parse('2026-11-24T18:00:02.000Z'));
    logger.start();
    logger.error({ seq: 2 }, 'late');

    expect(lines).toEqual([
      {
        level: 'warn',
        time: '2026-11-24T18:00:00.000Z',
        service: 'stratavore-agent',
        runnerId: 'r1',
        seq: 1,
        msg: 'early',
      },
      {
        level: 'error',
        time: '2026-11-24T18:00:02.000Z',
        service: 'stratavore-agent',
        runnerId: 'r1',
        seq: 2,
        msg: 'late',
      },
    ]);
  });
});
