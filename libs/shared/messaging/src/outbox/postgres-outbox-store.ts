import { type EventEnvelope } from '@stratavore/contracts';
import { advisoryXactLock, withTransaction } from '@stratavore/persistence';
import { type DataSource } from 'typeorm';

import { type OutboxRecord, type OutboxStore } from './outbox.ports';

export interface PostgresOutboxStoreOptions {
  /**
   * How long a claim keeps other relays off its rows (default 60 000 ms). Must exceed the time a
   * batch can spend being published and marked, or a live batch could be claimed twice.
   */
  readonly leaseMs?: number;
  /**
   * A claim looks at most `limit x scanFactor` due rows, oldest first (default 4). Bounds the
   * cost of a claim when most due rows wait behind a subject in flight; the rows beyond wait
   * for a later claim, which they would anyway (order is by position).
   */
  readonly scanFactor?: number;
}

interface ClaimedRow {
  position: string;
  event_id: string;
  type: string;
  subject: string;
  payload: EventEnvelope;
  attempts: number;
  created_at: Date;
}

const UNPUBLISHED = 'published_at IS NULL AND dead_lettered_at IS NULL';
const CLAIM_LOCK = 'stratavore:outbox:claim';

/** {@link OutboxStore} on `messaging.outbox`. */
export class PostgresOutboxStore implements OutboxStore {
  readonly leaseMs: number;
  private readonly scanFactor: number;

  constructor(
    private readonly dataSource: DataSource,
    options: PostgresOutboxStoreOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.scanFactor = options.scanFactor ?? 4;
  }

  async claimBatch(limit: number): Promise<OutboxRecord[]> {
    const rows = await withTransaction(this.dataSource, async (manager) => {
      // Claims are serialized (a few ms each): with concurrent claimers a snapshot could still
      // see an earlier row of a subject as free while another claimer is leasing it, and hand
      // out the later row alongside. SKIP LOCKED keeps claims from waiting on rows being marked.
      await advisoryXactLock(manager, CLAIM_LOCK);
      return await manager.query<ClaimedRow[]>(
        `WITH candidates AS (
           SELECT position FROM messaging.outbox
           WHERE published_at IS NULL AND dead_lettered_at IS NULL AND next_attempt_at <= now()
           ORDER BY position
           LIMIT $3
         ), due AS (
           SELECT o.position FROM candidates c
           JOIN messaging.outbox o ON o.position = c.position
           WHERE NOT EXISTS (
               SELECT 1 FROM messaging.outbox p
               WHERE p.subject = o.subject AND p.position < o.position
                 AND p.published_at IS NULL AND p.dead_lettered_at IS NULL
                 AND p.next_attempt_at > now())
           ORDER BY o.position
           LIMIT $1
           FOR UPDATE OF o SKIP LOCKED
         ), leased AS (
           UPDATE messaging.outbox t
           SET next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
           FROM due WHERE t.position = due.position
           RETURNING t.position, t.event_id, t.type, t.subject, t.payload, t.attempts, t.created_at
         )
         SELECT * FROM leased ORDER BY position`,
        [limit, this.leaseMs, limit * this.scanFactor],
      );
    });
    return rows.map((row) => ({
      position: String(row.position),
      eventId: row.event_id,
      type: row.type,
      subject: row.subject,
      envelope: row.payload,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  }

  async markPublished(positions: readonly string[]): Promise<void> {
    if (positions.length === 0) return;
    await this.dataSource.query(
      `UPDATE messaging.outbox SET published_at = now()
       WHERE position = ANY($1::bigint[]) AND published_at IS NULL`,
      [positions],
    );
  }

  async markFailed(position: string, error: string, nextAttemptAt: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE messaging.outbox
       SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
       WHERE position = $1::bigint AND ${UNPUBLISHED}`,
      [position, error, nextAttemptAt],
    );
  }

  async release(positions: readonly string[]): Promise<void> {
    if (positions.length === 0) return;
    await this.dataSource.query(
      `UPDATE messaging.outbox SET next_attempt_at = now()
       WHERE position = ANY($1::bigint[]) AND ${UNPUBLISHED}`,
      [positions],
    );
  }

  async deadLetter(position: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE messaging.outbox
       SET attempts = attempts + 1, last_error = $2, dead_lettered_at = now()
       WHERE position = $1::bigint AND ${UNPUBLISHED}`,
      [position, error],
    );
  }

  async backlog(): Promise<number> {
    const rows = await this.dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM messaging.outbox WHERE ${UNPUBLISHED}`,
    );
    return rows[0]?.n ?? 0;
  }

  async oldestUnpublishedAge(): Promise<number> {
    const rows = await this.dataSource.query<Array<{ age: number }>>(
      `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
       FROM messaging.outbox WHERE ${UNPUBLISHED}`,
    );
    return Math.max(0, rows[0]?.age ?? 0);
  }

  /** Deletes published rows older than `olderThan` (retention), at most `limit` per call. */
  async purgePublished(olderThan: Date, limit = 10_000): Promise<number> {
    const rows = await this.dataSource.query<Array<{ n: number }>>(
      `WITH gone AS (
         DELETE FROM messaging.outbox WHERE position IN (
           SELECT position FROM messaging.outbox
           WHERE published_at IS NOT NULL AND published_at < $1 LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [olderThan, limit],
    );
    return rows[0]?.n ?? 0;
  }
}
