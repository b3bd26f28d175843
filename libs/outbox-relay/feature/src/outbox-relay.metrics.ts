import { type PublishFailureReason } from '@stratavore/messaging';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Where the backlog gauges read from at scrape time. */
export interface OutboxBacklogSource {
  backlog(): Promise<number>;
  oldestUnpublishedAge(): Promise<number>;
}

/** What the relay reports; {@link PrometheusOutboxRelayMetrics} in production. */
export interface OutboxRelayMetrics {
  published(count: number): void;
  failed(reason: PublishFailureReason, count: number): void;
  deadLettered(count: number): void;
  batchCompleted(seconds: number): void;
  /** Lets the backlog gauges query the outbox when scraped. */
  trackBacklog(source: OutboxBacklogSource): void;
}

export const noopOutboxRelayMetrics: OutboxRelayMetrics = {
  published: () => undefined,
  failed: () => undefined,
  deadLettered: () => undefined,
  batchCompleted: () => undefined,
  trackBacklog: () => undefined,
};

/**
 * The relay's Prometheus metrics, registered on `registry`:
 * `stratavore_outbox_backlog`, `stratavore_outbox_oldest_unpublished_age_seconds` (both read
 * from the outbox at scrape time), `stratavore_outbox_published_total`,
 * `stratavore_outbox_publish_failures_total{reason}`, `stratavore_outbox_dead_lettered_total`,
 * `stratavore_outbox_batch_duration_seconds`.
 */
export class PrometheusOutboxRelayMetrics implements OutboxRelayMetrics {
  private readonly publishedTotal: Counter;
  private readonly failedTotal: Counter<'reason'>;
  private readonly deadLetteredTotal: Counter;
  private readonly batchDuration: Histogram;
  private source: OutboxBacklogSource | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    const read = async (gauge: Gauge, pick: (s: OutboxBacklogSource) => Promise<number>) => {
      if (!this.source) return;
      try {
        gauge.set(await pick(this.source));
      } catch {
        // A failed read keeps the last value; the database readiness check reports the outage.
      }
    };
    const backlog: Gauge = new Gauge({
      name: 'stratavore_outbox_backlog',
      help: 'Outbox rows not yet published (dead-lettered rows excluded).',
      registers,
      collect: () => read(backlog, (s) => s.backlog()),
    });
    const oldest: Gauge = new Gauge({
      name: 'stratavore_outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest outbox row not yet published; 0 when none.',
      registers,
      collect: () => read(oldest, (s) => s.oldestUnpublishedAge()),
    });
    this.publishedTotal = new Counter({
      name: 'stratavore_outbox_published_total',
      help: 'Outbox events confirmed by the broker and marked published.',
      registers,
    });
    this.failedTotal = new Counter({
      name: 'stratavore_outbox_publish_failures_total',
      help: 'Outbox publication attempts that failed, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.deadLetteredTotal = new Counter({
      name: 'stratavore_outbox_dead_lettered_total',
      help: 'Outbox events moved aside after too many failed attempts.',
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'stratavore_outbox_batch_duration_seconds',
      help: 'Claim-publish-mark time of one relay batch.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  published(count: number): void {
    if (count > 0) this.publishedTotal.inc(count);
  }

  failed(reason: PublishFailureReason, count: number): void {
    if (count > 0) this.failedTotal.inc({ reason }, count);
  }

  deadLettered(count: number): void {
    if (count > 0) this.deadLetteredTotal.inc(count);
  }

  batchCompleted(seconds: number): void {
    this.batchDuration.observe(seconds);
  }

  trackBacklog(source: OutboxBacklogSource): void {
    this.source = source;
  }
}
