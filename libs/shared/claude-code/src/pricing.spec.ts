import { ClaudeCodeErrorCode, ClaudeCodeException } from './claude-code.exception';
import { costOf } from './cost';
import { usage } from './fixtures.test-support';
import { DEFAULT_PRICING_TABLE, findModelPricing, resolvePricingTable } from './pricing';

/* Expected costs are worked out by hand from the list prices (USD per million tokens). */

describe('findModelPricing', () => {
  it.each([
    ['claude-opus-4-6', 'claude-opus-4-5'],
    ['claude-opus-4-5-20251101', 'claude-opus-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-opus-4-0', 'claude-opus-4'],
    ['anthropic.claude-opus-4-20250514-v1:0', 'claude-opus-4'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4'],
    ['claude-sonnet-4-6', 'claude-sonnet-4-6'],
    ['claude-3-7-sonnet-20250219', 'claude-3-7-sonnet'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
    ['claude-3-haiku-20240307', 'claude-3-haiku'],
  ])('prices %s with %s', (model, id) => {
    expect(findModelPricing(model)?.id).toBe(id);
  });

  it.each(['claude-test-model', 'gpt-5', 'claude-opus-4-9', '<synthetic>'])(
    'does not know %s',
    (model) => {
      expect(findModelPricing(model)).toBeNull();
    },
  );
});

describe('costOf', () => {
  it('prices every token kind at its own rate', () => {
    // Sonnet 4.5: 1,000,000 of each kind = 3 + 15 + 3.75 + 6 + 0.30 = 28.05 USD.
    const million = usage({
      inputTokens: 1e6,
      outputTokens: 1e6,
      cacheCreation5mTokens: 1e6,
      cacheCreation1hTokens: 1e6,
      cacheReadTokens: 1e6,
    });
    expect(costOf({ 'claude-sonnet-4-5-20250929': million }).totalUsd).toBeCloseTo(28.05, 10);
  });

  it('prices the ccusage fixtures by hand', () => {
    // sonnet-4: 400 in x 3 + 175 out x 15 + 25 writes x 3.75 + 50 reads x 0.3 = 3933.75 -> $0.00393375
    // opus-4:   200 x 15 + 75 x 75 + 50 x 18.75 + 20 x 1.5 = 9592.5 -> $0.0095925
    // haiku-4-5: 130 x 1 + 60 x 5 + 15 x 1.25 + 40 x 0.1 = 452.75 -> $0.00045275
    const report = costOf({
      'claude-sonnet-4-20250514': usage({
        inputTokens: 400,
        outputTokens: 175,
        cacheCreation5mTokens: 25,
        cacheReadTokens: 50,
      }),
      'claude-opus-4-20250514': usage({
        inputTokens: 200,
        outputTokens: 75,
        cacheCreation5mTokens: 50,
        cacheReadTokens: 20,
      }),
      'claude-haiku-4-5-20251001': usage({
        inputTokens: 130,
        outputTokens: 60,
        cacheCreation5mTokens: 15,
        cacheReadTokens: 40,
      }),
    });
    expect(report.models['claude-sonnet-4-20250514']).toEqual({
      pricingId: 'claude-sonnet-4',
      usd: 0.00393375,
    });
    expect(report.models['claude-opus-4-20250514']?.usd).toBe(0.0095925);
    expect(report.models['claude-haiku-4-5-20251001']?.usd).toBe(0.00045275);
    // 0.00393375 + 0.0095925 + 0.00045275
    expect(report.totalUsd).toBe(0.013979);
    expect(report.unknownModels).toEqual([]);
  });

  it('prices 1-hour cache writes at twice the input rate', () => {
    // The short spotter session, opus-4-6: 3 x 5 + 13 x 25 + 13835 x 10 (1h) + 11515 x 0.5
    // = 15 + 325 + 138350 + 5757.5 = 144447.5 -> $0.1444475
    const report = costOf({
      'claude-opus-4-6': usage({
        inputTokens: 3,
        outputTokens: 13,
        cacheCreation1hTokens: 13_835,
        cacheReadTokens: 11_515,
      }),
    });
    expect(report.totalUsd).toBe(0.1444475);
  });

  it('uses the long-context rates for the long-context part only, where the model has them', () => {
    // Sonnet 4.5, 250,000 cache reads + 10 input + 1,000 output in one long request, plus a
    // standard request of 100 input and 10 output:
    // long: 10 x 6 + 1000 x 22.5 + 250000 x 0.6 = 60 + 22500 + 150000 = 172560
    // standard: 100 x 3 + 10 x 15 = 450   -> 173010 / 1e6 = $0.17301
    const long = usage({ inputTokens: 10, outputTokens: 1_000, cacheReadTokens: 250_000 });
    const all = usage({ inputTokens: 110, outputTokens: 1_010, cacheReadTokens: 250_000 });
    expect(
      costOf({ 'claude-sonnet-4-5-20250929': { usage: all, longContextUsage: long } }).totalUsd,
    ).toBe(0.17301);
    // Opus 4.6 bills its whole window at standard rates: 110 x 5 + 1010 x 25 + 250000 x 0.5
    // = 550 + 25250 + 125000 = 150800 -> $0.1508
    expect(costOf({ 'claude-opus-4-6': { usage: all, longContextUsage: long } }).totalUsd).toBe(
      0.1508,
    );
  });

  it('prices web searches per 1,000 requests', () => {
    // 3 searches x $10 / 1000 = $0.03, plus 1000 input x 1 = $0.001 on Haiku 4.5.
    expect(
      costOf({ 'claude-haiku-4-5': usage({ inputTokens: 1_000, webSearchRequests: 3 }) }).totalUsd,
    ).toBe(0.031);
  });

  it('gives an unknown model a null cost, reports it, and still sums the known ones', () => {
    const report = costOf({
      'claude-test-model': usage({ inputTokens: 630, outputTokens: 265, cacheReadTokens: 315 }),
      'claude-haiku-4-5': usage({ outputTokens: 1_000 }),
      'other-idle-model': usage({}),
    });
    expect(report.models['claude-test-model']).toEqual({ pricingId: null, usd: null });
    expect(report.models['other-idle-model']).toEqual({ pricingId: null, usd: 0 });
    expect(report.unknownModels).toEqual(['claude-test-model']);
    expect(report.totalUsd).toBeNull();
    expect(report.pricedUsd).toBe(0.005);
  });
});

describe('resolvePricingTable', () => {
  it('returns the shipped table for an empty or missing configuration', () => {
    expect(resolvePricingTable(undefined)).toEqual(DEFAULT_PRICING_TABLE);
    expect(resolvePricingTable({})).toEqual(DEFAULT_PRICING_TABLE);
  });

  it('replaces a shipped entry by id, keeping its pattern, and tries new entries first', () => {
    const table = resolvePricingTable({
      webSearchPerThousand: 5,
      models: [
        {
          id: 'claude-haiku-4-5',
          rates: { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 },
        },
        {
          id: 'stand-in',
          match: '^claude-test-model$',
          rates: { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 },
        },
      ],
    });
    expect(table.models[0]?.id).toBe('stand-in');
    // 1,000 output x 10 = $0.01; 2 searches x $5 / 1000 = $0.01.
    expect(
      costOf(
        { 'claude-haiku-4-5-20251001': usage({ outputTokens: 1_000, webSearchRequests: 2 }) },
        table,
      ).totalUsd,
    ).toBe(0.02);
    // 630 + 265 + 315 tokens at $1 per million.
    expect(
      costOf(
        {
          'claude-test-model': usage({ inputTokens: 630, outputTokens: 265, cacheReadTokens: 315 }),
        },
        table,
      ).totalUsd,
    ).toBe(0.00121);
    expect(table.models).toHaveLength(DEFAULT_PRICING_TABLE.models.length + 1);
  });

  it('can drop the shipped entries and a shipped long-context tier', () => {
    const rates = { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 };
    const only = resolvePricingTable({
      replaceDefaults: true,
      models: [{ id: 'mine', match: 'sonnet', rates }],
    });
    expect(only.models.map((m) => m.id)).toEqual(['mine']);
    const flat = resolvePricingTable({
      models: [{ id: 'claude-sonnet-4-5', rates, longContext: null }],
    });
    expect(findModelPricing('claude-sonnet-4-5', flat)?.longContext).toBeNull();
  });

  it('names every offending field of a bad configuration', () => {
    const attempt = () =>
      resolvePricingTable({
        models: [
          {
            id: 'a',
            match: '(',
            rates: { input: -1, output: 'x', cacheWrite5m: 1, cacheWrite1h: 1 },
          },
        ],
        webSearchPerThousand: -3,
        extra: true,
      });
    expect(attempt).toThrow(ClaudeCodeException);
    let issues: readonly { field: string }[] = [];
    try {
      attempt();
    } catch (error) {
      expect((error as ClaudeCodeException).code).toBe(ClaudeCodeErrorCode.InvalidPricingConfig);
      issues = (error as ClaudeCodeException).details?.issues ?? [];
    }
    expect(issues.map((issue) => issue.field).sort()).toEqual([
      '(config)',
      'models.0.match',
      'models.0.rates.cacheRead',
      'models.0.rates.input',
      'models.0.rates.output',
      'webSearchPerThousand',
    ]);
  });

  it('requires a pattern for a new model and refuses duplicate ids', () => {
    const rates = { input: 1, output: 1, cacheWrite5m: 1, cacheWrite1h: 1, cacheRead: 1 };
    expect(() =>
      resolvePricingTable({
        models: [
          { id: 'new-model', rates },
          { id: 'new-model', match: 'x', rates },
        ],
      }),
    ).toThrow(
      'invalid pricing configuration: models.0.match: required: new-model is not in the shipped table; models.1.id: duplicate model id new-model',
    );
  });
});
