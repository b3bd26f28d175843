/**
 * What a bench's database did over a window, from `pg_stat_database`: commits (every statement
 * outside a transaction counts as one, so this approximates round trips that ended a
 * transaction) and rows read and written. PostgreSQL publishes these counters with a delay of
 * up to a second; `read()` forces the snapshot to be taken fresh.
 */
import { Client } from 'pg';

export interface DatabaseCounters {
  readonly commits: number;
  readonly rollbacks: number;
  readonly rowsFetched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
}

export async function readDatabaseCounters(
  serverUrl: string,
  database: string,
): Promise<DatabaseCounters> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{
      commits: string;
      rollbacks: string;
      fetched: string;
      inserted: string;
      updated: string;
    }>(
      `SELECT xact_commit AS commits, xact_rollback AS rollbacks, tup_fetched AS fetched,
              tup_inserted AS inserted, tup_updated AS updated
         FROM pg_stat_database WHERE datname = $1`,
      [database],
    );
    const row = rows[0];
    if (!row) throw new Error(`no statistics for database ${database}`);
    return {
      commits: Number(row.commits),
      rollbacks: Number(row.rollbacks),
      rowsFetched: Number(row.fetched),
      rowsInserted: Number(row.inserted),
      rowsUpdated: Number(row.updated),
    };
  } finally {
    await client.end();
  }
}

/** `after - before`, per unit of work (`per` launches, requests, ...). */
export function countersPer(
  before: DatabaseCounters,
  after: DatabaseCounters,
  per: number,
): DatabaseCounters {
  const d = (k: keyof DatabaseCounters) => (after[k] - before[k]) / per;
  return {
    commits: d('commits'),
    rollbacks: d('rollbacks'),
    rowsFetched: d('rowsFetched'),
    rowsInserted: d('rowsInserted'),
    rowsUpdated: d('rowsUpdated'),
  };
}

export function countersLine(c: DatabaseCounters, unit: string): string {
  const f = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
  return `database per ${unit}: ${f(c.commits)} commits, ${f(c.rowsFetched)} rows fetched, ${f(c.rowsInserted)} inserted, ${f(c.rowsUpdated)} updated`;
}
