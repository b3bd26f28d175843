import { duration } from '@stratavore/config';
import { z } from 'zod';

import { type BudgetServiceModuleOptions } from './budget-service.module';

/** budget-service's own environment variables (docs/budgets.md). */
export const budgetServiceConfigSchema = z.object({
  /**
   * `BUDGET_ROLL_CHECK_INTERVAL`: the longest the period roller sleeps between looks (it
   * otherwise wakes when the earliest period ends). Default 5s.
   */
  BUDGET_ROLL_CHECK_INTERVAL: duration().default(5_000),
});

export type BudgetServiceConfig = z.output<typeof budgetServiceConfigSchema>;

/** The module's options from the validated environment (the app and the daemon share this). */
export function budgetServiceOptionsFromEnv(
  databaseUrl: string,
  signingKey: string,
  env: Partial<BudgetServiceConfig> = {},
): BudgetServiceModuleOptions {
  return {
    databaseUrl,
    signingKey,
    rollCheckIntervalMs: env.BUDGET_ROLL_CHECK_INTERVAL ?? 5_000,
  };
}
