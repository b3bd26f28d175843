import { DEFAULT_PRICING_TABLE, findModelPricing } from '@stratavore/claude-code';
import { ConfigError } from '@stratavore/config';

import { loadAgentConfig } from './agent-config';
import { loadAgentConfigWithSchema } from './agent-config.schema';

const BASE = {
  STRATAVORE_RUNNER_ID: '11111111-1111-4111-8111-111111111111',
  STRATAVORE_RUNNER_TOKEN: 'token',
  STRATAVORE_HEARTBEAT_URL: 'http://127.0.0.1:7411',
  STRATAVORE_LOG_DIR: '/var/log/stratavore',
};

/** The config, or the problems, `load` gives for `env`. */
function outcomeOf(load: (env: Record<string, string>) => unknown, env: Record<string, string>) {
  try {
    return { config: load(env) };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems };
    throw error;
  }
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadAgentConfig(env);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.variable}: ${p.expected}`);
    throw error;
  }
  return [];
}

describe('STRATAVORE_CLAUDE_PRICING', () => {
  it('is optional: the shipped table prices Claude runners', () => {
    expect(loadAgentConfig(BASE).STRATAVORE_CLAUDE_PRICING).toBeUndefined();
  });

  it('applies JSON overrides to the shipped table', () => {
    const config = loadAgentConfig({
      ...BASE,
      STRATAVORE_CLAUDE_PRICING: JSON.stringify({
        models: [
          {
            id: 'in-house',
            match: '^claude-in-house$',
            rates: { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 },
          },
        ],
      }),
    });
    const table = config.STRATAVORE_CLAUDE_PRICING;
    expect(table?.models).toHaveLength(DEFAULT_PRICING_TABLE.models.length + 1);
    expect(table && findModelPricing('claude-in-house', table)?.rates.output).toBe(2);
  });

  it('names the variable and every offending field', () => {
    expect(problemsOf({ ...BASE, STRATAVORE_CLAUDE_PRICING: '{not json' })).toEqual([
      'STRATAVORE_CLAUDE_PRICING: expected a JSON object of pricing overrides',
    ]);
    expect(
      problemsOf({
        ...BASE,
        STRATAVORE_CLAUDE_PRICING: JSON.stringify({ models: [{ id: 'x', rates: { input: -1 } }] }),
      }),
    ).toEqual([
      'STRATAVORE_CLAUDE_PRICING: models.0.rates.input: Too small: expected number to be >=0; ' +
        'models.0.rates.output: Invalid input: expected number, received undefined; ' +
        'models.0.rates.cacheWrite5m: Invalid input: expected number, received undefined; ' +
        'models.0.rates.cacheWrite1h: Invalid input: expected number, received undefined; ' +
        'models.0.rates.cacheRead: Invalid input: expected number, received undefined',
    ]);
  });
});

describe('loadAgentConfig', () => {
  // A usual environment is checked without zod; the result and the errors must be the schema's.
  it.each<[string, Record<string, string>]>([
    ['the required variables', {}],
    [
      'every optional variable',
      {
        STRATAVORE_AGENT_LOG_LEVEL: 'debug',
        STRATAVORE_PROMPT: 'fix the tests',
        STRATAVORE_TRANSCRIPT_URL: 'https://sessions.example:8443/base',
        STRATAVORE_TRANSCRIPT_UPLOAD: 'false',
        STRATAVORE_TRANSCRIPT_INTERVAL: '90s',
        STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT: '0',
      },
    ],
    ['a log level to trim and lower', { STRATAVORE_AGENT_LOG_LEVEL: ' WARN ' }],
    ['an unknown log level', { STRATAVORE_AGENT_LOG_LEVEL: 'verbose' }],
    ['an upper-case runner id', { STRATAVORE_RUNNER_ID: 'ABCDEF01-2345-4678-9ABC-DEF012345678' }],
    ['the nil runner id', { STRATAVORE_RUNNER_ID: '00000000-0000-0000-0000-000000000000' }],
    ['a runner id of version 9', { STRATAVORE_RUNNER_ID: '11111111-1111-9111-8111-111111111111' }],
    ['an empty token', { STRATAVORE_RUNNER_TOKEN: '' }],
    ['an upper-case scheme', { STRATAVORE_HEARTBEAT_URL: 'HTTP://127.0.0.1:7411' }],
    ['another scheme', { STRATAVORE_HEARTBEAT_URL: 'ftp://127.0.0.1' }],
    ['no URL', { STRATAVORE_HEARTBEAT_URL: 'localhost:7411' }],
    ['a relative log directory', { STRATAVORE_LOG_DIR: 'logs' }],
    ['upload yes', { STRATAVORE_TRANSCRIPT_UPLOAD: ' Yes' }],
    ['upload maybe', { STRATAVORE_TRANSCRIPT_UPLOAD: 'maybe' }],
    ['an interval under 1s', { STRATAVORE_TRANSCRIPT_INTERVAL: '999' }],
    ['an interval with a space', { STRATAVORE_TRANSCRIPT_INTERVAL: '1.5 m' }],
    ['no duration', { STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT: 'soon' }],
  ])('gives what the schema gives for %s', (_name, overrides) => {
    const env = { ...BASE, ...overrides };
    expect(outcomeOf(loadAgentConfig, env)).toEqual(outcomeOf(loadAgentConfigWithSchema, env));
  });

  it('names every missing variable', () => {
    expect(problemsOf({}).map((problem) => problem.split(':')[0])).toEqual([
      'STRATAVORE_RUNNER_ID',
      'STRATAVORE_RUNNER_TOKEN',
      'STRATAVORE_HEARTBEAT_URL',
      'STRATAVORE_LOG_DIR',
    ]);
  });
});
