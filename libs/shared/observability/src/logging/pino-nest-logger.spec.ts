import { createLogger } from '@stratavore/logging';

import { PinoNestLogger } from './pino-nest-logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = {
    write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
  };
  return { lines, destination };
}

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
