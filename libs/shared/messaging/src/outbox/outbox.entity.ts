import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

import { MESSAGING_SCHEMA } from './messaging-schema';

/** One event waiting for (or done with) publication. Mirrors migrations 1764000000000, 1764750000000. */
@Entity({ name: 'outbox', schema: MESSAGING_SCHEMA })
@Unique('uq_outbox_event_id', ['eventId'])
@Index('ix_outbox_unpublished', ['position'], {
  where: 'published_at IS NULL AND dead_lettered_at IS NULL',
})
@Index('ix_outbox_unpublished_subject', ['subject', 'position'], {
  where: 'published_at IS NULL AND dead_lettered_at IS NULL',
})
export class OutboxEntity {
  /** Commit order across the whole outbox (bigserial, read as a string). */
  @PrimaryGeneratedColumn('increment', {
    type: 'bigint',
    name: 'position',
    primaryKeyConstraintName: 'pk_outbox',
  })
  position!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  subject!: string;

  /** The signed envelope, exactly as it goes on the wire. */
  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** Failed publication attempts so far. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** Not claimable before this instant: retry backoff, or the lease of a relay holding the row. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  /** The relay (store instance) that claimed the row last; NULL once it waits for a retry. */
  @Column({ name: 'leased_by', type: 'uuid', nullable: true })
  leasedBy!: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Set when the row was moved aside as poison; such rows are never claimed again. */
  @Column({ name: 'dead_lettered_at', type: 'timestamptz', nullable: true })
  deadLetteredAt!: Date | null;
}
