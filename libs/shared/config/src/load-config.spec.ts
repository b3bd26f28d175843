import { z } from 'zod';

import { commonConfigSchema, DEVELOPMENT_EVENT_SIGNING_KEY } from './common-config.schema';
import { ConfigError } from './config.error';
import { bool, duration, logLevel, port, url } from './fields';
import { loadConfig } from './load-config';

function problemsOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('field builders', () => {
  it('port() accepts 1..65535 from a string and refuses the rest', () => {
    expect(port().parse('5432')).toBe(5432);
    expect(port().parse(65535)).toBe(65535);
    for (const bad of ['0', '65536', '80.5', 'abc', '', '-1']) {
      expect(port().safeParse(bad).success).toBe(false);
    }
  });

  it('url() checks the scheme', () => {
    const amqp = url(['amqp', 'amqps:']);
    expect(amqp.parse('amqp://guest:guest@127.0.0.1:5672')).toBe(
      'amqp://guest:guest@127.0.0.1:5672',
    );
    expect(amqp.parse('amqps://host')).toBe('amqps://host');
    expect(amqp.safeParse('http://host').success).toBe(false);
    expect(amqp.safeParse('not a url').success).toBe(false);
  });

  it('duration() reads ms, s, m, h and bare milliseconds', () => {
    expect(duration().parse('500ms')).toBe(500);
    expect(duration().parse('10s')).toBe(10_000);
    expect(duration().parse('5m')).toBe(300_000);
    expect(duration().parse('1h')).toBe(3_600_000);
    expect(duration().parse('1.5s')).toBe(1_500);
    expect(duration().parse('250')).toBe(250);
    expect(duration().parse(42)).toBe(42);
    expect(duration().safeParse('10 parsecs').success).toBe(false);
    expect(duration().safeParse('-5s').success).toBe(false);
  });

  it('bool() reads true/false, 1/0, yes/no in any case', () => {
    expect(['true', 'TRUE', '1', 'yes', 'Yes'].map((v) => bool().parse(v))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['false', '0', 'no', 'NO'].map((v) => bool().parse(v))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(bool().safeParse('maybe').success).toBe(false);
  });

  it('logLevel() accepts pino levels case-insensitively', () => {
    expect(logLevel().parse('DEBUG')).toBe('debug');
    expect(logLevel().safeParse('verbose').success).toBe(false);
  });
});

describe('loadConfig', () => {
  const schema = commonConfigSchema.extend({
    PORT: port().default(3000),
    DATABASE_URL: url(['postgres', 'postgresql']),
    POLL_INTERVAL: duration().default(1_000),
    FEATURE_X: bool().default(false),
    API_TOKEN: z.string().min(20),
  });

  it('returns the typed, defaulted configuration', () => {
    const config = loadConfig(
      schema,
      { DATABASE_URL: 'postgres://localhost/db', API_TOKEN: 'x'.repeat(20), POLL_INTERVAL: '2s' },
      { app: 'test' },
    );
    expect(config).toEqual({
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      EVENT_SIGNING_KEY: DEVELOPMENT_EVENT_SIGNING_KEY,
      SERVICE_NAME: undefined,
      PORT: 3000,
      DATABASE_URL: 'postgres://localhost/db',
      POLL_INTERVAL: 2_000,
      FEATURE_X: false,
      API_TOKEN: 'x'.repeat(20),
    });
  });

  it('names every problem at once, one line per variable, and hides secrets', () => {
    const error = problemsOf(() =>
      loadConfig(
        schema,
        {
          NODE_ENV: 'production',
          LOG_LEVEL: 'loud',
          PORT: '99999',
          DATABASE_URL: 'mysql://db',
          FEATURE_X: 'perhaps',
          API_TOKEN: 'short-secret',
        },
        { app: 'runner-manager' },
      ),
    );
    expect(error.app).toBe('runner-manager');
    expect(error.message.split('\n')).toEqual([
      'Invalid configuration for runner-manager (6 problems):',
      '  - LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent; given "loud"',
      '  - PORT: expected an integer port between 1 and 65535; given "99999"',
      '  - DATABASE_URL: expected a URL with scheme postgres:// or postgresql://; given "mysql://db"',
      '  - FEATURE_X: expected one of true, false, 1, 0, yes, no; given "perhaps"',
      '  - API_TOKEN: expected at least 20 characters; given (hidden)',
      '  - EVENT_SIGNING_KEY: expected a secret of at least 16 characters (required in production); given (not set)',
    ]);
    expect(error.message).not.toContain('short-secret');
  });

  it('says a missing required variable is required', () => {
    const error = problemsOf(() => loadConfig(schema, { API_TOKEN: 'y'.repeat(20) }, { app: 'a' }));
    expect(error.problems).toEqual([
      { variable: 'DATABASE_URL', expected: 'expected a value (required)', given: '(not set)' },
    ]);
  });

  it('hides a too-short signing key and accepts a real one in production', () => {
    const error = problemsOf(() =>
      loadConfig(
        commonConfigSchema,
        { NODE_ENV: 'production', EVENT_SIGNING_KEY: 'tiny' },
        { app: 'a' },
      ),
    );
    expect(error.problems).toEqual([
      {
        variable: 'EVENT_SIGNING_KEY',
        expected: 'expected at least 16 characters',
        given: '(hidden)',
      },
    ]);
    const config = loadConfig(
      commonConfigSchema,
      {
        NODE_ENV: 'production',
        EVENT_SIGNING_KEY: 'a-real-production-key',
        SERVICE_NAME: 'budget-service',
      },
      { app: 'a' },
    );
    expect(config.EVENT_SIGNING_KEY).toBe('a-real-production-key');
    expect(config.SERVICE_NAME).toBe('budget-service');
  });

  it('reads process.env by default', () => {
    process.env.STRATAVORE_CONFIG_SPEC = '7';
    const config = loadConfig(z.object({ STRATAVORE_CONFIG_SPEC: port() }));
    delete process.env.STRATAVORE_CONFIG_SPEC;
    expect(config.STRATAVORE_CONFIG_SPEC).toBe(7);
  });
});
