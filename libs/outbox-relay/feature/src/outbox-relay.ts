import { type Clock } from '@stratavore/core';
import {
  type EventPublisher,
  type OutboxRecord,
  type OutboxStore,
  type OutboxWakeUpSource,
  type OutgoingEvent,
  type PublishFailureReason,
  type PublishOutcome,
} from '@stratavore/messaging';

import { noopOutboxRelayMetrics, type OutboxRelayMetrics } from './outbox-relay.metrics';
import {
  type OutboxRelayOptions,
  type OutboxRelayOptionsInput,
  outboxRelayOptionsSchema,
  relayBackoffMs,
} from './outbox-relay.options';

/** Minimal logger; Nest's `Logger` fits. */
export interface OutboxRelayLogger {
  warn(message: string): void;
  error(message: string): void;
}

const silentLogger: OutboxRelayLogger = { warn: () => undefined, error: () => undefined };

/** What one batch did. */
export interface RelayBatchReport {
  readonly claimed: number;
  readonly published: number;
  /** Failed and scheduled for a retry. */
  readonly retried: number;
  readonly deadLettered: number;
  /** Held back because an earlier row of their subject failed; given back for a later batch. */
  readonly released: number;
}

export interface OutboxRelayDeps {
  readonly store: OutboxStore;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  /** Notifications that new rows were committed; without one the relay only polls. */
  readonly wakeUps?: OutboxWakeUpSource | null;
  readonly options?: OutboxRelayOptionsInput;
  readonly metrics?: OutboxRelayMetrics;
  readonly logger?: OutboxRelayLogger;
}

type RelayState = 'idle' | 'running' | 'stopping' | 'stopped';

/** A claimed batch on its way: published, waiting for its confirms, then settled. */
interface Batch {
  /** Claim sequence number: batches are published and settled in this order. */
  readonly seq: number;
  readonly rows: readonly OutboxRecord[];
  readonly startedAt: number;
  readonly outcomes: Promise<Map<string, PublishOutcome>>;
  /** Resolves once the batch is settled (marked, retried, released) or given up. */
  settled?: Promise<RelayBatchReport>;
}

/**
 * A subject whose row failed: its later rows in batches claimed before the failure was recorded
 * (the store still saw the failed row as leased by this relay) must not be marked.
 */
interface SubjectHold {
  readonly position: bigint;
  /** Batches with a claim sequence number up to this one may hold later rows of the subject. */
  until: number;
}

const EMPTY_REPORT: RelayBatchReport = {
  claimed: 0,
  published: 0,
  retried: 0,
  deadLettered: 0,
  released: 0,
};

/**
 * Drains the outbox to the broker. One loop claims batches (the store leases their rows to this
 * relay) and publishes each at once, with up to `window` batches waiting for their confirms;
 * batches are settled strictly in claim order: mark published what the broker confirmed,
 * schedule a retry with exponential backoff for a failure, dead-letter a row past
 * `maxAttempts`. A wake-up starts a claim at once; wake-ups arriving while busy collapse into
 * one more claim; without any, the loop polls every `idlePollIntervalMs`.
 *
 * Order per subject: the store hands out rows in position order and never a row whose subject
 * another relay has in flight or waits on a retry for; rows of a subject this relay has in
 * flight may come in a later batch, and the publisher puts batches on the wire in call order, so
 * the broker receives every subject in order. When a row fails, the later rows of its subject
 * (in its batch and in any batch claimed before the failure was recorded) are not marked even if
 * confirmed: they are released and published again after it, so the marked prefix of every
 * subject stays gap-free. (A broker that already routed those later messages delivers them
 * twice; consumers are idempotent through the inbox.) A dead-lettered row no longer holds its
 * subject back.
 */
export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly store: OutboxStore;
  private readonly publisher: EventPublisher;
  private readonly clock: Clock;
  private readonly wakeUps: OutboxWakeUpSource | null;
  private readonly metrics: OutboxRelayMetrics;
  private readonly logger: OutboxRelayLogger;
  private state: RelayState = 'idle';
  private loop: Promise<void> | null = null;
  private wakeGeneration = 0;
  private readonly sleepers = new Set<() => void>();
  /** Claims started so far (the next batch's sequence number is this + 1). */
  private claims = 0;
  /** Batches published and not settled yet, oldest first. */
  private readonly inFlight: Batch[] = [];
  /** The tail of the settle chain: batch n settles after batch n - 1. */
  private settling: Promise<unknown> = Promise.resolve();
  private readonly holds = new Map<string, SubjectHold>();

  constructor(deps: OutboxRelayDeps) {
    this.options = outboxRelayOptionsSchema.parse(deps.options ?? {});
    this.store = deps.store;
    this.publisher = deps.publisher;
    this.clock = deps.clock;
    this.wakeUps = deps.wakeUps ?? null;
    this.metrics = deps.metrics ?? noopOutboxRelayMetrics;
    this.logger = deps.logger ?? silentLogger;
    this.metrics.trackBacklog(this.store);
  }

  isRunning(): boolean {
    return this.state === 'running';
  }

  /** Starts the claim loop and the wake-up source; resolves once they run. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`OutboxRelay cannot start when ${this.state}`);
    this.state = 'running';
    this.loop = this.run();
    if (this.wakeUps) await this.wakeUps.start(() => this.wake());
  }

  /** "There may be new rows": an idle relay claims now, a busy one claims once more. */
  wake(): void {
    this.wakeGeneration++;
    this.rouse();
  }

  /**
   * Drains and stops: no new claims; the batches in flight finish publishing (bounded by
   * `publishTimeoutMs`) and are settled; then the wake-up source stops. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'running') this.state = 'stopping';
    this.rouse();
    await this.loop;
    await this.settling;
    if (this.state === 'stopping') {
      this.state = 'stopped';
      await this.wakeUps?.stop();
    }
  }

  /**
   * One claim-publish-settle cycle, waiting for the batch to be settled. Tests and tools call it
   * on a relay that is not started; the started relay pipelines the same steps.
   */
  async relayBatch(): Promise<RelayBatchReport> {
    const batch = await this.claimAndPublish();
    return batch ? await batch.settled! : EMPTY_REPORT;
  }

  /** Claims a batch and publishes it at once; its settling is chained behind the earlier ones. */
  private async claimAndPublish(): Promise<Batch | null> {
    const seq = ++this.claims;
    const rows = await this.store.claimBatch(this.options.batchSize);
    if (rows.length === 0) return null;
    const batch: Batch = {
      seq,
      rows,
      startedAt: this.clock.now().getTime(),
      outcomes: this.publish(rows),
    };
    this.inFlight.push(batch);
    const settled = this.settling.then(() => this.settle(batch));
    batch.settled = settled;
    this.settling = settled.then(
      () => this.forget(batch),
      (error: unknown) => {
        this.forget(batch);
        // relayBatch() hands the error to its caller; the started relay reports it here.
        if (this.state !== 'idle') {
          this.logger.error(`outbox relay could not settle a batch: ${errorText(error)}`);
        }
      },
    );
    return batch;
  }

  private forget(batch: Batch): void {
    const at = this.inFlight.indexOf(batch);
    if (at >= 0) this.inFlight.splice(at, 1);
  }

  private async settle(batch: Batch): Promise<RelayBatchReport> {
    const outcomes = await batch.outcomes;
    const published: string[] = [];
    const released: string[] = [];
    const retries: Array<{ row: OutboxRecord; error: string; at: Date }> = [];
    const deadLetters: Array<{ row: OutboxRecord; error: string }> = [];
    const failedReasons = new Map<PublishFailureReason, number>();
    const newHolds: SubjectHold[] = [];

    for (const row of batch.rows) {
      const position = BigInt(row.position);
      let hold = this.holds.get(row.subject);
      if (hold && hold.position === position) {
        // The failed row itself is back (its retry came due): it settles like any other.
        this.holds.delete(row.subject);
        hold = undefined;
      }
      if (hold && position > hold.position && batch.seq <= hold.until) {
        released.push(row.position);
        continue;
      }
      const outcome = outcomes.get(row.eventId);
      if (outcome?.ok) {
        published.push(row.position);
        continue;
      }
      const reason: PublishFailureReason = outcome?.reason ?? 'timeout';
      const error = outcome
        ? `${outcome.reason}${outcome.detail ? `: ${outcome.detail}` : ''}`
        : 'timeout: the publisher returned no outcome for this message';
      failedReasons.set(reason, (failedReasons.get(reason) ?? 0) + 1);
      const attempts = row.attempts + 1;
      if (attempts >= this.options.maxAttempts) {
        deadLetters.push({ row, error });
      } else {
        const delay = relayBackoffMs(attempts, this.options);
        retries.push({ row, error, at: new Date(this.clock.now().getTime() + delay) });
        // Until the failure is recorded, every batch claimed (or being claimed) may hold later
        // rows of the subject: the store still sees the failed row as leased by this relay.
        const held: SubjectHold = { position, until: Number.POSITIVE_INFINITY };
        this.holds.set(row.subject, held);
        newHolds.push(held);
      }
    }

    await this.write(async () => {
      if (published.length > 0) await this.store.markPublished(published);
    });
    this.metrics.published(published.length);
    for (const retry of retries) {
      await this.write(() => this.store.markFailed(retry.row.position, retry.error, retry.at));
    }
    // Claims started from now on see the recorded failures and hold those subjects back.
    for (const held of newHolds) held.until = this.claims;
    for (const dead of deadLetters) {
      await this.write(() => this.store.deadLetter(dead.row.position, dead.error));
      this.logger.warn(
        `outbox event ${dead.row.eventId} (${dead.row.type}) dead-lettered after ${
          dead.row.attempts + 1
        } attempts: ${dead.error}`,
      );
    }
    if (released.length > 0) await this.write(() => this.store.release(released));
    for (const [subject, held] of this.holds) {
      if (held.until <= batch.seq) this.holds.delete(subject);
    }

    for (const [reason, count] of failedReasons) this.metrics.failed(reason, count);
    this.metrics.deadLettered(deadLetters.length);
    this.metrics.batchCompleted((this.clock.now().getTime() - batch.startedAt) / 1000);
    return {
      claimed: batch.rows.length,
      published: published.length,
      retried: retries.length,
      deadLettered: deadLetters.length,
      released: released.length,
    };
  }

  /**
   * Runs one settling write; while the relay runs, a failed write is retried every
   * `idlePollIntervalMs` until it succeeds, holding back the batches behind it (their order
   * depends on it). Once stopping, or on a relay that was never started, the error is thrown:
   * the rows keep their lease and come back when it expires.
   */
  private async write(step: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await step();
        return;
      } catch (error) {
        if (this.state !== 'running') throw error;
        this.logger.error(`outbox relay could not settle a batch, retrying: ${errorText(error)}`);
        await this.pause(this.options.idlePollIntervalMs);
      }
    }
  }

  private publish(rows: readonly OutboxRecord[]): Promise<Map<string, PublishOutcome>> {
    const messages: OutgoingEvent[] = rows.map((row) => ({
      routingKey: row.type,
      messageId: row.eventId,
      // The stored envelope as is; its subject is inside it, so no header to encode per message.
      body: Buffer.from(row.payload),
    }));
    let publishing: Promise<PublishOutcome[]>;
    try {
      publishing = this.publisher.publishBatch(messages, {
        timeoutMs: this.options.publishTimeoutMs,
      });
    } catch (error) {
      publishing = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return publishing.then(
      (outcomes) => new Map(outcomes.map((outcome) => [outcome.messageId, outcome])),
      (error: unknown) =>
        // The port promises per-message outcomes; a rejection still must not lose the batch.
        new Map(
          rows.map((row): [string, PublishOutcome] => [
            row.eventId,
            { messageId: row.eventId, ok: false, reason: 'disconnected', detail: errorText(error) },
          ]),
        ),
    );
  }

  private async run(): Promise<void> {
    while (this.state === 'running') {
      if (this.inFlight.length >= this.options.window) {
        await this.inFlight[0]!.settled!.catch(() => undefined);
        continue;
      }
      const seen = this.wakeGeneration;
      let batch: Batch | null;
      try {
        batch = await this.claimAndPublish();
      } catch (error) {
        this.logger.error(`outbox relay batch failed: ${errorText(error)}`);
        await this.pause(this.options.idlePollIntervalMs);
        continue;
      }
      if (this.state !== 'running') break;
      if ((batch && batch.rows.length >= this.options.batchSize) || this.wakeGeneration !== seen) {
        continue;
      }
      await this.pause(this.options.idlePollIntervalMs);
    }
  }

  /** Sleeps up to `ms`; a wake-up or stop() ends it early. */
  private pause(ms: number): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private rouse(): void {
    for (const resolve of [...this.sleepers]) resolve();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
