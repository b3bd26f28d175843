import { type DataSource, type EntityManager } from 'typeorm';

import { advisoryLockKey } from './advisory-key';

/** Runs `work` in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
export function withTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(work);
}

/**
 * Takes a transaction-scoped advisory lock on `key` (hashed to int8), waiting for it. Released
 * by the commit or rollback of the manager's transaction; call it inside {@link withTransaction}.
 */
export async function advisoryXactLock(manager: EntityManager, key: string): Promise<void> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('advisoryXactLock needs a manager inside a transaction');
  }
  await manager.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(key)]);
}
