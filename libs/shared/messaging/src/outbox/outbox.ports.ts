/** A claimed outbox row, as the relay sees it (no ORM types). */
export interface OutboxRecord {
  /** Commit order (int8 as a decimal string); also the row's id for the store. */
  readonly position: string;
  readonly eventId: string;
  readonly type: string;
  /** The aggregate id; rows of one subject are published in position order. */
  readonly subject: string;
  /**
   * The signed envelope as stored (JSON text), published as is: the relay never parses nor
   * re-serializes it (the signature covers the canonical form, which key order and whitespace
   * do not change).
   */
  readonly payload: string;
  /** Failed publication attempts before this claim. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/**
 * The relay's view of the outbox; one store instance is one claimer (one relay). A claimed row
 * is leased to its claimer: no other claimer gets it until it is marked or released, or until
 * the lease expires (the holder crashed). A row is never claimed while an earlier unpublished,
 * not dead-lettered row of the same subject is waiting for a retry or leased by another claimer,
 * so one subject is never in flight in two relays at once. Rows of a subject the claimer itself
 * has in flight stay claimable by it: a relay pipelines batches and is responsible for
 * publishing them in order and settling them in order (see `OutboxRelay`).
 */
export interface OutboxStore {
  /** Claims up to `limit` due rows in position order and leases them to this claimer. */
  claimBatch(limit: number): Promise<OutboxRecord[]>;
  /** Marks rows published (the broker confirmed them). */
  markPublished(positions: readonly string[]): Promise<void>;
  /**
   * Records a failed attempt; the row becomes due again at `nextAttemptAt` and, until then, holds
   * its subject back for every claimer, this one included.
   */
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
