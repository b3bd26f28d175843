import 'reflect-metadata';

import {
  budgetServiceConfigSchema,
  BudgetServiceModule,
  budgetServiceOptionsFromEnv,
} from '@stratavore/budget-service';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'budget-service',
  defaultHttpPort: 7413,
  config: budgetServiceConfigSchema.shape,
  imports: (config) => [
    BudgetServiceModule.forRoot(
      budgetServiceOptionsFromEnv(config.DATABASE_URL, config.EVENT_SIGNING_KEY, config),
    ),
  ],
});
