import { currentCorrelationId, newCorrelationId, runWithCorrelation } from './correlation';
import { createLogger } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  };
  return { lines, destination };
}

describe('correlation context', () => {
  it('is visible to everything called inside, across awaits, and gone outside', async () => {
    expect(currentCorrelationId()).toBeUndefined();
    const seen = await runWithCorrelation('req-1', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentCorrelationId();
    });
    expect(seen).toBe('req-1');
    expect(currentCorrelationId()).toBeUndefined();
    expect(newCorrelationId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('createLogger', () => {
  it('writes JSON lines with service, level label, ISO time and the correlation id in scope', async () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'debug', service: 'runner-manager', destination });
    logger.info({ runnerId: 'r1' }, 'outside');
    await runWithCorrelation('corr-42', async () => {
      await Promise.resolve();
      logger.debug('inside');
    });
    logger.trace('below the level');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'runner-manager',
      runnerId: 'r1',
      msg: 'outside',
    });
    expect(lines[0]).not.toHaveProperty('correlationId');
    expect(lines[1]).toMatchObject({ level: 'debug', msg: 'inside', correlationId: 'corr-42' });
    expect(String(lines[1]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('keeps the fields of a child logger on every line', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', service: 'stratavore-agent', destination });
    logger.child({ runnerId: 'r7' }).warn({ seq: 3 }, 'slow');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        service: 'stratavore-agent',
        runnerId: 'r7',
        seq: 3,
        msg: 'slow',
      }),
    ]);
  });

  it('takes the time of each line from the given clock', () => {
    const { lines, destination } = capture();
    let now = Date.parse('2026-11-24T10:00:00.123Z');
    const logger = createLogger({ level: 'info', service: 'svc', destination, now: () => now });
    logger.info('first');
    now += 1_000;
    logger.info('second');
    expect(lines.map((line) => line.time)).toEqual([
      '2026-11-24T10:00:00.123Z',
      '2026-11-24T10:00:01.123Z',
    ]);
  });
});
