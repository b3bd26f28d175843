import { DEFAULT_PRICING_TABLE, findModelPricing } from '@stratavore/claude-code';
import { ConfigError } from '@stratavore/config';

import { loadAgentConfig } from './agent-config';

const BASE = {
  STRATAVORE_RUNNER_ID: '11111111-1111-4111-8111-111111111111',
  STRATAVORE_RUNNER_TOKEN: 'token',
  STRATAVORE_HEARTBEAT_URL: 'http://127.0.0.1:7411',
  STRATAVORE_LOG_DIR: '/var/log/stratavore',
};

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
