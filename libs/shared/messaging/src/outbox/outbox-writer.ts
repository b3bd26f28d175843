import { type EventEnvelope } from '@stratavore/contracts';
import { type EntityManager } from 'typeorm';

/**
 * Appends events to `messaging.outbox` inside the caller's transaction, so they commit or roll
 * back with the state change they describe. One multi-row INSERT per call (and therefore one
 * wake-up notification, see the migration).
 */
export class OutboxWriter {
  async append(manager: EntityManager, envelopes: readonly EventEnvelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('OutboxWriter.append needs the manager of the business transaction');
    }
    await manager.query(
      `INSERT INTO messaging.outbox (event_id, type, subject, payload)
       SELECT e.id, e.type, e.subject, e.payload
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[])
         WITH ORDINALITY AS e(id, type, subject, payload, n)
       ORDER BY e.n`,
      [
        envelopes.map((e) => e.id),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.subject),
        envelopes.map((e) => JSON.stringify(e)),
      ],
    );
  }
}
