import { currentCorrelationId, newCorrelationId, runWithCorrelation } from './correlation';
import { createLogger } from './logger';
import { PinoNestLogger } from './pino-nest-logger';

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
});

describe('PinoNestLogger', () => {
  it("maps Nest's calls onto pino with context, stack and levels", () => {
    const { lines, destination } = capture();
    const nest = new PinoNestLogger(
      createLogger({ level: 'trace', service: 'gateway', destination }),
    );
    nest.log('Mapped {/health, GET} route', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at somewhere', 'ExceptionsHandler');
    nest.warn({ event: 'slow' }, 'Budget');
    nest.verbose('details');
    nest.error(new Error('kaput'));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'Mapped {/health, GET} route',
        context: 'RouterExplorer',
      }),
      expect.objectContaining({
        level: 'error',
        msg: 'boom',
        stack: 'Error: boom\n    at somewhere',
        context: 'ExceptionsHandler',
      }),
      expect.objectContaining({ level: 'warn', event: 'slow', context: 'Budget' }),
      expect.objectContaining({ level: 'trace', msg: 'details' }),
      expect.objectContaining({ level: 'error', msg: 'kaput' }),
    ]);
    expect(lines[4]?.err).toMatchObject({ type: 'Error', message: 'kaput' });
    nest.setLogLevels(['error', 'warn']);
    nest.log('hidden now');
    nest.warn('still shown');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toMatchObject({ level: 'warn', msg: 'still shown' });
  });
});
