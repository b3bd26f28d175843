export { BUDGET_SCHEMA } from './budget-schema';
export {
  budgetDataSource,
  budgetMigrations,
  BudgetStore,
  type BudgetStoreOptions,
} from './budget-store';
export * from './budget-store.types';
