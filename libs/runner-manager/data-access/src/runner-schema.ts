/** The PostgreSQL schema runner-manager owns. */
export const RUNNER_SCHEMA = 'runner';
