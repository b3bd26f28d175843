import { Client } from 'pg';

import { EmbeddedPostgresError, EmbeddedPostgresErrorCode } from './embedded-postgres.error';

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

function quoteName(name: string): string {
  if (!DATABASE_NAME.test(name)) {
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.InvalidName,
      `"${name}" is not a valid database name (letters, digits, _ and -, at most 63 characters)`,
    );
  }
  return `"${name}"`;
}

/** The URL of database `name` on the same server as `url`. */
export function databaseUrl(url: string, name: string): string {
  const target = new URL(url);
  target.pathname = `/${encodeURIComponent(name)}`;
  return target.toString();
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates database `name` on the server of `url` unless it exists; returns the new database's
 * URL.
 */
export async function createDatabase(url: string, name: string): Promise<string> {
  const quoted = quoteName(name);
  await withClient(url, async (client) => {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${quoted}`);
      } catch (error) {
        // 42P04 duplicate_database: created concurrently by someone else, which is fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  });
  return databaseUrl(url, name);
}

/** Drops database `name` on the server of `url` if it exists, disconnecting its sessions (FORCE). */
export async function dropDatabase(url: string, name: string): Promise<void> {
  const quoted = quoteName(name);
  await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`));
}
