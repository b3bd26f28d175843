import { type DataSource, type EntityManager } from 'typeorm';

export type InboxResult = 'processed' | 'duplicate';

/**
 * Exactly-once processing on top of at-least-once delivery: a consumer records (consumer, event
 * id) in `messaging.inbox` in the same transaction as the handler's own writes.
 */
export class Inbox {
  /**
   * In one transaction: records the pair, then runs `work` only if the pair is new. A duplicate
   * (even one delivered concurrently, which waits on the first one's row) runs nothing. When
   * `work` throws, everything rolls back, the pair included, so a redelivery can try again.
   */
  async runOnce(
    dataSource: DataSource,
    consumer: string,
    eventId: string,
    work: (manager: EntityManager) => Promise<void>,
  ): Promise<InboxResult> {
    return dataSource.transaction(async (manager) => {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO messaging.inbox (consumer, event_id) VALUES ($1, $2)
         ON CONFLICT (consumer, event_id) DO NOTHING
         RETURNING 1 AS inserted`,
        [consumer, eventId],
      );
      if (inserted.length === 0) return 'duplicate';
      await work(manager);
      return 'processed';
    });
  }

  /** Forgets pairs older than `olderThan` (retention beyond any possible redelivery). */
  async prune(dataSource: DataSource, olderThan: Date): Promise<number> {
    const rows = await dataSource.query<Array<{ n: number }>>(
      `WITH gone AS (DELETE FROM messaging.inbox WHERE processed_at < $1 RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [olderThan],
    );
    return rows[0]?.n ?? 0;
  }
}
