import { createDatabase, dropDatabase } from '@stratavore/embedded-postgres';

import { uniqueName } from './unique-name';

export interface TestDatabase {
  /** URL of the new, empty database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, disconnecting whatever still uses it (`WITH (FORCE)`). */
  drop(): Promise<void>;
}

/**
 * Creates a database with a unique name on the server of `DATABASE_URL` (the jest global setup
 * provides one), so every test file works in its own database. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(
  prefix = 'test',
  serverUrl: string | undefined = process.env.DATABASE_URL,
): Promise<TestDatabase> {
  if (!serverUrl) {
    throw new Error(
      'DATABASE_URL is not set: run the tests through jest (its global setup starts an embedded PostgreSQL) or set DATABASE_URL=postgres://...',
    );
  }
  const safePrefix = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const name = uniqueName(safePrefix, '_');
  const url = await createDatabase(serverUrl, name);
  return { url, name, drop: () => dropDatabase(serverUrl, name) };
}
