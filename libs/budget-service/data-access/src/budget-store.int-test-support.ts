// Shared by the budget store's integration tests (not exported from the library).
import { randomUUID } from 'node:crypto';

import { type Budget } from '@stratavore/budget-service-domain';
import { type BudgetScope } from '@stratavore/contracts';

/**
 * A hard daily budget in UTC of `limitTokens` input and output tokens, warning at half, created
 * and last updated at `at`.
 */
export function dailyBudget(
  scope: BudgetScope,
  limitTokens: number,
  { at, rollover }: { at: Date; rollover: boolean },
): Budget {
  return {
    id: randomUUID(),
    scope,
    limits: { tokens: limitTokens, usdMicros: null },
    tokenKinds: ['input', 'output'],
    period: 'daily',
    timeZone: 'UTC',
    anchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
    warnThresholds: [0.5],
    rollover: { enabled: rollover, capTokens: null, capUsdMicros: null },
    enforcement: 'hard',
    createdAt: at,
    updatedAt: at,
  };
}
