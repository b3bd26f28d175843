import { Column, Entity, PrimaryColumn } from 'typeorm';

import { MESSAGING_SCHEMA } from '../outbox/messaging-schema';

/** One (consumer, event) pair already processed. Mirrors migration 1764000000000. */
@Entity({ name: 'inbox', schema: MESSAGING_SCHEMA })
export class InboxEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_inbox' })
  consumer!: string;

  @PrimaryColumn({ name: 'event_id', type: 'uuid', primaryKeyConstraintName: 'pk_inbox' })
  eventId!: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
