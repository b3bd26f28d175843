/** The PostgreSQL schema budget-service owns. */
export const BUDGET_SCHEMA = 'budget';
