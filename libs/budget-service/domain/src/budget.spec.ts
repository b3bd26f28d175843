import {
  type Amounts,
  budgetFigures,
  budgetStatus,
  carryOverFrom,
  countedTokens,
  coveringScopes,
  exceededDimensions,
  firingsStillReached,
  type LimitAmounts,
  overrunsBudget,
  scopeKey,
  thresholdsToFire,
  type TokenUsage,
  usdToMicros,
  ZERO_AMOUNTS,
  ZERO_USAGE,
} from './budget';
import { renewedExpiry, settle, shortfallMessage, shortfallsOf } from './reservation';

const ALL = ['input', 'output', 'cacheCreation', 'cacheRead'] as const;
const projectId = '22222222-2222-4222-8222-222222222222';

function usage(tokens: Partial<TokenUsage>): TokenUsage {
  return { ...ZERO_USAGE, ...tokens };
}

function period(limits: LimitAmounts, used: TokenUsage, carryOver: Amounts = ZERO_AMOUNTS) {
  return { limits, used, carryOver };
}

describe('counting', () => {
  it('counts only the configured token kinds', () => {
    const u = usage({ input: 10, output: 20, cacheCreation: 30, cacheRead: 40 });
    expect(countedTokens(u, ALL)).toBe(100);
    expect(countedTokens(u, ['input', 'output'])).toBe(30);
  });

  it('keys scopes and lists the budgets that cover a project', () => {
    expect(scopeKey({ kind: 'global' })).toBe('global');
    expect(scopeKey({ kind: 'project', projectId })).toBe(`project:${projectId}`);
    expect(coveringScopes(projectId).map(scopeKey)).toEqual(['global', `project:${projectId}`]);
  });

  it('keeps USD in micro-dollars', () => {
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
    expect(usdToMicros(12.3456789)).toBe(12_345_679);
  });
});

describe('rollover', () => {
  const limits = { tokens: 1000, usdMicros: usdToMicros(10) };

  it('carries nothing when disabled', () => {
    const carried = carryOverFrom(period(limits, usage({ input: 100 })), ALL, {
      enabled: false,
      capTokens: null,
      capUsdMicros: null,
    });
    expect(carried).toEqual(ZERO_AMOUNTS);
  });

  it('carries the unused part of the effective limit, capped', () => {
    const rollover = { enabled: true, capTokens: 500, capUsdMicros: usdToMicros(1) };
    // 1000 + 200 carried in - 300 used = 900 unused -> capped at 500; $10 - $4 = $6 -> $1.
    const carried = carryOverFrom(
      period(limits, usage({ input: 300, usdMicros: usdToMicros(4) }), {
        tokens: 200,
        usdMicros: 0,
      }),
      ALL,
      rollover,
    );
    expect(carried).toEqual({ tokens: 500, usdMicros: usdToMicros(1) });
  });

  it('carries all of it without a cap, and nothing from an overspent period', () => {
    const rollover = { enabled: true, capTokens: null, capUsdMicros: null };
    expect(carryOverFrom(period(limits, usage({ output: 250 })), ALL, rollover)).toEqual({
      tokens: 750,
      usdMicros: usdToMicros(10),
    });
    expect(carryOverFrom(period(limits, usage({ output: 5000 })), ALL, rollover).tokens).toBe(0);
  });

  it('carries nothing in a dimension without a limit, and counts only the budget kinds', () => {
    const rollover = { enabled: true, capTokens: null, capUsdMicros: null };
    const carried = carryOverFrom(
      period({ tokens: 1000, usdMicros: null }, usage({ input: 100, cacheRead: 800 })),
      ['input', 'output'],
      rollover,
    );
    expect(carried).toEqual({ tokens: 900, usdMicros: 0 });
  });
});

describe('figures, status and thresholds', () => {
  it('computes left and the ratio over the larger dimension, with carry-over', () => {
    const figures = budgetFigures(
      { tokenKinds: ALL },
      period(
        { tokens: 1000, usdMicros: usdToMicros(10) },
        usage({ input: 600, usdMicros: usdToMicros(9) }),
        { tokens: 200, usdMicros: 0 },
      ),
      { tokens: 500, usdMicros: usdToMicros(2) },
    );
    expect(figures.effective).toEqual({ tokens: 1200, usdMicros: usdToMicros(10) });
    expect(figures.left).toEqual({ tokens: 100, usdMicros: 0 });
    expect(figures.ratio).toBeCloseTo(0.9);
    expect(exceededDimensions(figures.used, figures.effective)).toEqual([]);
    expect(
      exceededDimensions({ tokens: 1200, usdMicros: usdToMicros(11) }, figures.effective),
    ).toEqual(['tokens', 'usd']);
  });

  it('classifies ok, warning and exceeded', () => {
    const t = [0.5, 0.8, 0.95];
    expect(budgetStatus(0.49, t)).toBe('ok');
    expect(budgetStatus(0.5, t)).toBe('warning');
    expect(budgetStatus(1, t)).toBe('exceeded');
    expect(budgetStatus(0.99, [])).toBe('ok');
  });

  it('fires each crossed threshold once', () => {
    const t = [0.5, 0.8, 0.95];
    expect(thresholdsToFire(0.49, t, new Set())).toEqual([]);
    expect(thresholdsToFire(0.5, t, new Set())).toEqual([0.5]);
    expect(thresholdsToFire(0.97, t, new Set([0.5]))).toEqual([0.8, 0.95]);
    expect(thresholdsToFire(0.99, t, new Set([0.5, 0.8, 0.95]))).toEqual([]);
  });

  it('re-arms the firings a raised limit no longer reaches', () => {
    expect(firingsStillReached([0.5, 0.8, 0.95, 1], 0.6)).toEqual([0.5]);
  });
});

describe('reservations', () => {
  const budget = {
    id: '33333333-3333-4333-8333-333333333333',
    scope: { kind: 'project', projectId } as const,
    enforcement: 'hard' as const,
    limits: { tokens: 1000, usdMicros: null },
  };
  const end = new Date('2026-03-02T00:00:00Z');

  function figures(used: number, reserved: number) {
    return budgetFigures({ tokenKinds: ALL }, period(budget.limits, usage({ input: used })), {
      tokens: reserved,
      usdMicros: 0,
    });
  }

  it('grants what fits beside used and reserved, and refuses one token more', () => {
    expect(
      shortfallsOf(budget, figures(600, 300), ZERO_AMOUNTS, { tokens: 100, usdMicros: 0 }, end),
    ).toEqual([]);
    const [refusal] = shortfallsOf(
      budget,
      figures(600, 300),
      ZERO_AMOUNTS,
      { tokens: 101, usdMicros: 0 },
      end,
    );
    expect(refusal).toMatchObject({
      dimension: 'tokens',
      limit: 1000,
      used: 600,
      reserved: 300,
      left: 100,
      requested: 101,
    });
  });

  it('refuses even a zero estimate when nothing is left', () => {
    expect(shortfallsOf(budget, figures(1000, 0), ZERO_AMOUNTS, ZERO_AMOUNTS, end)).toHaveLength(1);
    expect(shortfallsOf(budget, figures(999, 0), ZERO_AMOUNTS, ZERO_AMOUNTS, end)).toEqual([]);
  });

  it('says which budget, its limit, used, reserved, left and the period end', () => {
    const [refusal] = shortfallsOf(
      budget,
      figures(990_000 / 1000, 8),
      { tokens: 0, usdMicros: 0 },
      { tokens: 50, usdMicros: 0 },
      end,
    );
    expect(shortfallMessage(refusal!, 'daily', 'api')).toBe(
      'The budget of project api (daily, tokens) cannot take 50 tokens: limit 1,000 tokens, used 990 tokens, reserved 8 tokens, left 2 tokens, requested 50 tokens; the period ends at 2026-03-02T00:00:00.000Z',
    );
    const usd = shortfallsOf(
      { ...budget, scope: { kind: 'global' }, limits: { tokens: null, usdMicros: usdToMicros(5) } },
      budgetFigures(
        { tokenKinds: ALL },
        period({ tokens: null, usdMicros: usdToMicros(5) }, usage({ usdMicros: usdToMicros(5) })),
        ZERO_AMOUNTS,
      ),
      ZERO_AMOUNTS,
      { tokens: 0, usdMicros: usdToMicros(0.5) },
      null,
    );
    expect(shortfallMessage(usd[0]!, 'none')).toBe(
      'The global budget (none, usd) is exhausted: limit $5.00, used $5.00, reserved $0.00, left $0.00, requested $0.50; the budget has no period end',
    );
  });

  it('shrinks a reservation as usage arrives, never below zero', () => {
    expect(settle({ tokens: 100, usdMicros: 50 }, { tokens: 30, usdMicros: 80 })).toEqual({
      tokens: 70,
      usdMicros: 0,
    });
  });

  it('renews the expiry from the latest usage, never shortens it', () => {
    const current = new Date('2026-03-01T01:00:00Z');
    expect(renewedExpiry(current, new Date('2026-03-01T00:30:00Z'), 3_600_000)).toEqual(
      new Date('2026-03-01T01:30:00Z'),
    );
    expect(renewedExpiry(current, new Date('2026-03-01T00:00:00Z'), 1_000)).toEqual(current);
  });
});

describe('overrun', () => {
  const moved = { tokens: 10, usdMicros: 0 };

  it('is a hard budget at or past its limit that the booking moved', () => {
    expect(overrunsBudget('hard', 1, moved)).toBe(true);
    expect(overrunsBudget('hard', 1.5, { tokens: 0, usdMicros: 1 })).toBe(true);
  });

  it('is nothing below the limit, for a soft budget, or when nothing the budget counts moved', () => {
    expect(overrunsBudget('hard', 0.999, moved)).toBe(false);
    expect(overrunsBudget('soft', 2, moved)).toBe(false);
    expect(overrunsBudget('hard', 2, ZERO_AMOUNTS)).toBe(false);
  });
});
