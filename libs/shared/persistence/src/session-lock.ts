import { type DataSource, type QueryRunner } from 'typeorm';

import { advisoryLockKey } from './advisory-key';

/** A session advisory lock held on its own connection until released. */
export interface AdvisoryLockHandle {
  readonly key: string;
  /** Unlocks and returns the connection to the pool; safe to call twice. */
  release(): Promise<void>;
}

/**
 * Tries once to take the session advisory lock on `key` on a dedicated pooled connection.
 * Resolves `null` when another session holds it. The lock lives as long as that connection:
 * release it, or it goes when the connection or the process dies.
 */
export async function tryAdvisoryLock(
  dataSource: DataSource,
  key: string,
): Promise<AdvisoryLockHandle | null> {
  const lockKey = advisoryLockKey(key);
  const queryRunner: QueryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    const rows = (await queryRunner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      lockKey,
    ])) as Array<{ locked: boolean }>;
    if (rows[0]?.locked !== true) {
      await queryRunner.release();
      return null;
    }
  } catch (error) {
    await queryRunner.release();
    throw error;
  }
  let released = false;
  return {
    key,
    async release() {
      if (released) return;
      released = true;
      try {
        await queryRunner.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
      } finally {
        await queryRunner.release();
      }
    },
  };
}
