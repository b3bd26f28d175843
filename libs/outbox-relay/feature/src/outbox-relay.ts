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
  /** Held back because an earlier row of their subject failed; given back for the next batch. */
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

/**
 * Drains the outbox to the broker. Each worker (up to `window` batches in flight) loops: claim a
 * batch, publish it with confirms, mark published only what the broker confirmed, schedule a
 * retry with exponential backoff for a failure, dead-letter a row past `maxAttempts`. A wake-up
 * starts a cycle at once; wake-ups arriving while busy collapse into one more cycle; without
 * any, workers poll every `idlePollIntervalMs`.
 *
 * Order per subject: rows come claimed in position order and a subject is never in two batches
 * at once (the store's contract). When a row fails, the later rows of its subject in the batch
 * are not marked even if confirmed: they are released and published again after it, so the
 * marked prefix of every subject stays gap-free. (A broker that already routed those later
 * messages delivers them twice; consumers are idempotent through the inbox.) A dead-lettered row
 * no longer holds its subject back.
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
  private workers: Promise<void>[] = [];
  private wakeGeneration = 0;
  private readonly sleepers = new Set<() => void>();

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

  /** Starts the workers and the wake-up source; resolves once they run. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`OutboxRelay cannot start when ${this.state}`);
    this.state = 'running';
    for (let i = 0; i < this.options.window; i++) this.workers.push(this.work());
    if (this.wakeUps) await this.wakeUps.start(() => this.wake());
  }

  /** "There may be new rows": idle workers start a cycle now, busy ones run one more. */
  wake(): void {
    this.wakeGeneration++;
    for (const resolve of [...this.sleepers]) resolve();
  }

  /**
   * Drains and stops: no new claims; the batches in flight finish publishing (bounded by
   * `publishTimeoutMs`) and are marked; then the wake-up source stops. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'running') this.state = 'stopping';
    for (const resolve of [...this.sleepers]) resolve();
    await Promise.all(this.workers);
    if (this.state === 'stopping') {
      this.state = 'stopped';
      await this.wakeUps?.stop();
    }
  }

  /** One claim-publish-mark cycle. The workers call it; tests and tools may too. */
  async relayBatch(): Promise<RelayBatchReport> {
    const rows = await this.store.claimBatch(this.options.batchSize);
    if (rows.length === 0) {
      return { claimed: 0, published: 0, retried: 0, deadLettered: 0, released: 0 };
    }
    const started = this.clock.now().getTime();
    const outcomes = await this.publish(rows);

    const published: string[] = [];
    const released: string[] = [];
    const retries: Array<{ row: OutboxRecord; error: string; at: Date }> = [];
    const deadLetters: Array<{ row: OutboxRecord; error: string }> = [];
    const failedReasons = new Map<PublishFailureReason, number>();
    const heldSubjects = new Set<string>();

    for (const row of rows) {
      if (heldSubjects.has(row.subject)) {
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
        heldSubjects.add(row.subject);
      }
    }

    if (published.length > 0) await this.store.markPublished(published);
    for (const retry of retries) {
      await this.store.markFailed(retry.row.position, retry.error, retry.at);
    }
    for (const dead of deadLetters) {
      await this.store.deadLetter(dead.row.position, dead.error);
      this.logger.warn(
        `outbox event ${dead.row.eventId} (${dead.row.type}) dead-lettered after ${
          dead.row.attempts + 1
        } attempts: ${dead.error}`,
      );
    }
    if (released.length > 0) await this.store.release(released);

    this.metrics.published(published.length);
    for (const [reason, count] of failedReasons) this.metrics.failed(reason, count);
    this.metrics.deadLettered(deadLetters.length);
    this.metrics.batchCompleted((this.clock.now().getTime() - started) / 1000);
    return {
      claimed: rows.length,
      published: published.length,
      retried: retries.length,
      deadLettered: deadLetters.length,
      released: released.length,
    };
  }

  private async publish(rows: readonly OutboxRecord[]): Promise<Map<string, PublishOutcome>> {
    const messages: OutgoingEvent[] = rows.map((row) => ({
      routingKey: row.type,
      messageId: row.eventId,
      body: Buffer.from(JSON.stringify(row.envelope)),
      headers: { 'x-stratavore-subject': row.subject },
    }));
    let outcomes: PublishOutcome[];
    try {
      outcomes = await this.publisher.publishBatch(messages, {
        timeoutMs: this.options.publishTimeoutMs,
      });
    } catch (error) {
      // The port promises per-message outcomes; a rejection still must not lose the batch.
      const detail = error instanceof Error ? error.message : String(error);
      outcomes = rows.map((row) => ({
        messageId: row.eventId,
        ok: false,
        reason: 'disconnected',
        detail,
      }));
    }
    return new Map(outcomes.map((outcome) => [outcome.messageId, outcome]));
  }

  private async work(): Promise<void> {
    while (this.state === 'running') {
      const seen = this.wakeGeneration;
      let claimed = 0;
      try {
        claimed = (await this.relayBatch()).claimed;
      } catch (error) {
        this.logger.error(
          `outbox relay batch failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        await this.pause(this.options.idlePollIntervalMs);
        continue;
      }
      if (this.state !== 'running') break;
      if (claimed >= this.options.batchSize || this.wakeGeneration !== seen) continue;
      await this.pause(this.options.idlePollIntervalMs);
    }
  }

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
}
