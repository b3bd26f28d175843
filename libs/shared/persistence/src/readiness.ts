import { type DataSource } from 'typeorm';

/** A named probe for the readiness endpoint; `check()` rejects when the dependency is not usable. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** Readiness of the database: `SELECT 1` answered within `timeoutMs` (default 2 000). */
export function databaseReadinessCheck(dataSource: DataSource, timeoutMs = 2_000): ReadinessCheck {
  return {
    name: 'database',
    async check() {
      if (!dataSource.isInitialized) throw new Error('database connection not initialized');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`database did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([dataSource.query('SELECT 1'), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
