import { createDataSource, runMigrations, withTransaction } from '@stratavore/persistence';
import { type DataSource } from 'typeorm';

import { runnerManagerEntities } from './entities';
import { RunnerManagerSchema1764100000000 } from './migrations/1764100000000-runner-manager-schema.migration';
import { RunnerLaunchEstimates1764400000000 } from './migrations/1764400000000-runner-launch-estimates.migration';
import { RunnerRestarts1764610000000 } from './migrations/1764610000000-runner-restarts.migration';
import { RunnerWorktrees1764700000000 } from './migrations/1764700000000-runner-worktrees.migration';
import { RunnerActivity1764710000000 } from './migrations/1764710000000-runner-activity.migration';
import {
  type RunnerManagerReads,
  type RunnerManagerTransaction,
  type RunnerManagerUnitOfWork,
} from './repositories';
import { RUNNER_SCHEMA } from './runner-schema';
import { readsOn, transactionOn } from './typeorm-repositories';

/** Migrations of the `runner` schema, oldest first. */
export const runnerManagerMigrations = [
  RunnerManagerSchema1764100000000,
  RunnerLaunchEstimates1764400000000,
  RunnerRestarts1764610000000,
  RunnerWorktrees1764700000000,
  RunnerActivity1764710000000,
];

export interface RunnerManagerDataSourceOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/**
 * A DataSource (not initialized) on schema `runner` with its entities and migrations; never
 * synchronizes. Run the migrations with `runMigrations` from `@stratavore/persistence`.
 */
export function runnerManagerDataSource(
  url: string,
  options: RunnerManagerDataSourceOptions = {},
): DataSource {
  return createDataSource({
    url,
    schema: RUNNER_SCHEMA,
    entities: runnerManagerEntities,
    migrations: runnerManagerMigrations,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'runner-manager',
  });
}

/**
 * runner-manager's storage: opens its pool, migrates the `runner` schema (under the migration
 * lock) and hands out units of work. The `messaging` schema must be migrated too (the service
 * runtime does it), since events go to `messaging.outbox` in the same transactions.
 */
export class RunnerManagerStore implements RunnerManagerUnitOfWork {
  private constructor(private readonly dataSource: DataSource) {}

  static async open(
    url: string,
    options: RunnerManagerDataSourceOptions = {},
  ): Promise<RunnerManagerStore> {
    const dataSource = runnerManagerDataSource(url, options);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return new RunnerManagerStore(dataSource);
  }

  transaction<T>(work: (tx: RunnerManagerTransaction) => Promise<T>): Promise<T> {
    return withTransaction(this.dataSource, (manager) => work(transactionOn(manager)));
  }

  read<T>(work: (reads: RunnerManagerReads) => Promise<T>): Promise<T> {
    return work(readsOn(this.dataSource.manager));
  }

  /** Pings the database (readiness). */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
