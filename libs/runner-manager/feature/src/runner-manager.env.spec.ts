import { defaultLaunchEstimateFromEnv, runnerManagerEnvSchema } from './runner-manager.env';

describe('runner-manager environment: the default launch estimate', () => {
  const parse = (env: Record<string, string>) => runnerManagerEnvSchema.safeParse(env);
  const problems = (env: Record<string, string>) =>
    parse(env).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('is nothing unless set', () => {
    const env = runnerManagerEnvSchema.parse({});
    expect(defaultLaunchEstimateFromEnv(env)).toEqual({ tokens: 0, usd: 0 });
  });

  it('reads tokens and USD', () => {
    const env = runnerManagerEnvSchema.parse({
      BUDGET_DEFAULT_ESTIMATE_TOKENS: '20000',
      BUDGET_DEFAULT_ESTIMATE_USD: '1.25',
    });
    expect(defaultLaunchEstimateFromEnv(env)).toEqual({ tokens: 20_000, usd: 1.25 });
  });

  it('names the variable and what was expected', () => {
    expect(problems({ BUDGET_DEFAULT_ESTIMATE_TOKENS: '1.5' })).toEqual([
      'BUDGET_DEFAULT_ESTIMATE_TOKENS: expected a whole number of tokens',
    ]);
    expect(problems({ BUDGET_DEFAULT_ESTIMATE_TOKENS: '-3' })).toEqual([
      'BUDGET_DEFAULT_ESTIMATE_TOKENS: expected 0 or more tokens',
    ]);
    expect(problems({ BUDGET_DEFAULT_ESTIMATE_USD: 'lots' })).toEqual([
      'BUDGET_DEFAULT_ESTIMATE_USD: expected an amount in USD, e.g. 2.50',
    ]);
  });
});
