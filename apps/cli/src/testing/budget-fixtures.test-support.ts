import { type BudgetView, type UsageSummaryReply } from '@stratavore/contracts';

import { PROJECT_ID } from './fixtures.test-support';

export const BUDGET_ID = '3f2b9c1e-6d1a-4c1b-9f8e-2a7d5c4b3e21';
export const GLOBAL_BUDGET_ID = '7a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d';

/** A daily hard token budget of project web-app, a quarter used. */
export function aBudget(overrides: Partial<BudgetView> = {}): BudgetView {
  return {
    id: BUDGET_ID,
    scope: { kind: 'project', projectId: PROJECT_ID },
    limits: { tokens: 1_000_000, usd: null },
    tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
    period: 'daily',
    timeZone: 'UTC',
    periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
    warnThresholds: [0.5, 0.8, 0.95],
    rollover: { enabled: false, capTokens: null, capUsd: null },
    enforcement: 'hard',
    periodStart: '2026-11-24T00:00:00.000Z',
    periodEnd: '2026-11-25T00:00:00.000Z',
    carryOver: { tokens: 0, usd: 0 },
    used: { tokens: 250_000, usd: 1.5 },
    reserved: { tokens: 40_000, usd: 0 },
    left: { tokens: 710_000, usd: null },
    ratio: 0.25,
    thresholdsFired: [],
    status: 'ok',
    createdAt: '2026-11-20T00:00:00.000Z',
    updatedAt: '2026-11-20T00:00:00.000Z',
    ...overrides,
  };
}

/** A monthly global USD budget, exceeded. */
export function aGlobalBudget(overrides: Partial<BudgetView> = {}): BudgetView {
  return aBudget({
    id: GLOBAL_BUDGET_ID,
    scope: { kind: 'global' },
    limits: { tokens: null, usd: 25 },
    period: 'monthly',
    periodStart: '2026-11-01T00:00:00.000Z',
    periodEnd: '2026-12-01T00:00:00.000Z',
    used: { tokens: 3_000_000, usd: 25.5 },
    reserved: { tokens: 0, usd: 0 },
    left: { tokens: null, usd: 0 },
    ratio: 1.02,
    thresholdsFired: [0.5, 0.8, 0.95],
    status: 'exceeded',
    ...overrides,
  });
}

export function aUsageSummary(overrides: Partial<UsageSummaryReply> = {}): UsageSummaryReply {
  const day = {
    inputTokens: 120_000,
    outputTokens: 30_000,
    cacheCreationTokens: 5_000,
    cacheReadTokens: 95_000,
    totalTokens: 250_000,
    costUsd: 1.5,
    events: 12,
  };
  return {
    from: '2026-11-17T10:00:00.000Z',
    to: '2026-11-24T10:00:00.000Z',
    timeZone: 'UTC',
    budgets: [aBudget()],
    days: [{ ...day, day: '2026-11-24', projectId: PROJECT_ID }],
    totals: day,
    ...overrides,
  };
}
