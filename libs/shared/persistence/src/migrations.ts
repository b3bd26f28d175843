import { type DataSource, MigrationExecutor, type QueryRunner } from 'typeorm';

import { advisoryLockKey } from './advisory-key';
import { assertSchemaName } from './data-source';

function schemaOf(dataSource: DataSource): string {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (!schema) throw new Error('the DataSource has no schema; build it with createDataSource()');
  assertSchemaName(schema);
  return schema;
}

/** The advisory lock key that serializes migrations of one schema across processes. */
export function migrationLockKey(schema: string): string {
  return advisoryLockKey(`stratavore:migrations:${schema}`);
}

async function underMigrationLock<T>(
  dataSource: DataSource,
  work: (queryRunner: QueryRunner, schema: string) => Promise<T>,
): Promise<T> {
  const schema = schemaOf(dataSource);
  // One dedicated connection holds the session lock and runs the migrations, so a pool of
  // one connection cannot deadlock and the lock dies with the connection if the process does.
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    await queryRunner.query('SELECT pg_advisory_lock($1::bigint)', [migrationLockKey(schema)]);
    try {
      return await work(queryRunner, schema);
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1::bigint)', [migrationLockKey(schema)]);
    }
  } finally {
    await queryRunner.release();
  }
}

/**
 * Creates the DataSource's schema if needed and runs the pending migrations, each in its own
 * transaction, under a session advisory lock keyed by the schema name: replicas starting at the
 * same moment queue behind the first, which migrates; the others then find nothing pending.
 * Returns the names of the migrations this call executed.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  return underMigrationLock(dataSource, async (queryRunner, schema) => {
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const executor = new MigrationExecutor(dataSource, queryRunner);
    executor.transaction = 'each';
    const executed = await executor.executePendingMigrations();
    return executed.map((migration) => migration.name);
  });
}

/** Reverts the most recently executed migration of the DataSource's schema, under the same lock. */
export async function revertLastMigration(dataSource: DataSource): Promise<void> {
  await underMigrationLock(dataSource, async (queryRunner) => {
    const executor = new MigrationExecutor(dataSource, queryRunner);
    executor.transaction = 'each';
    await executor.undoLastMigration();
  });
}
