import { type EventEnvelope } from '@stratavore/contracts';

/** A claimed outbox row, as the relay sees it (no ORM types). */
export interface OutboxRecord {
  /** Commit order (int8 as a decimal string); also the row's id for the store. */
  readonly position: string;
  readonly eventId: string;
  readonly type: string;
  /** The aggregate id; rows of one subject are published in position order. */
  readonly subject: string;
  /** The signed envelope to publish as is. */
  readonly envelope: EventEnvelope;
  /** Failed publication attempts before this claim. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/**
 * The relay's view of the outbox. A claimed row is leased: no other claimer gets it until it is
 * marked or released, or until the lease expires (the holder crashed). A row is never claimed
 * while an earlier unpublished, not dead-lettered row of the same subject is leased or waiting
 * for a retry, so one subject is never in flight twice.
 */
export interface OutboxStore {
  /** Claims up to `limit` due rows in position order and leases them. */
  claimBatch(limit: number): Promise<OutboxRecord[]>;
  /** Marks rows published (the broker confirmed them). */
  markPublished(positions: readonly string[]): Promise<void>;
  /** Records a failed attempt; the row becomes due again at `nextAttemptAt`. */
  markFailed(position: string, error: string, nextAttemptAt: Date): Promise<void>;
  /** Gives claimed rows back untouched: due at once (still behind earlier rows of their subject). */
  release(positions: readonly string[]): Promise<void>;
  /** Moves a poison row aside: kept, flagged, never claimed again. */
  deadLetter(position: string, error: string): Promise<void>;
  /** Rows still to publish (not dead-lettered). */
  backlog(): Promise<number>;
  /** Age in seconds of the oldest row still to publish; 0 when there is none. */
  oldestUnpublishedAge(): Promise<number>;
}

/** Something that says "the outbox may have new rows" (LISTEN/NOTIFY in production). */
export interface OutboxWakeUpSource {
  /** Starts delivering wake-ups to `onWake`; resolves once listening (or retrying in the background). */
  start(onWake: () => void): Promise<void>;
  stop(): Promise<void>;
}
