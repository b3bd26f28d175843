export { type PlannedRestartRepository } from './planned-restart.repository';
export * from './repositories';
export {
  runnerManagerDataSource,
  type RunnerManagerDataSourceOptions,
  runnerManagerMigrations,
  RunnerManagerStore,
} from './runner-manager-store';
export { RUNNER_SCHEMA } from './runner-schema';
export {
  type WorktreeListFilter,
  type WorktreeRepository,
  type WorktreeWithOwner,
} from './worktree.repository';
