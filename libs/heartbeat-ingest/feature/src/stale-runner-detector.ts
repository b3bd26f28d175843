import { type EventEnvelope } from '@stratavore/contracts';
import { type Clock } from '@stratavore/core';
import { type ActiveRunner, type StaleDecision } from '@stratavore/heartbeat-ingest-data-access';

import { type HeartbeatEventFactory } from './heartbeat-events';
import { type HeartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { judgeStaleRunners, staleness, type StaleRules } from './stale-runner-rules';

/** The part of the store the detector needs. */
export interface StaleStore {
  listActiveRunners(): Promise<ActiveRunner[]>;
  reportStale(
    candidateIds: readonly string[],
    reportedAt: Date,
    decide: (fresh: ActiveRunner[]) => StaleDecision,
  ): Promise<StaleDecision>;
  appendEvents(events: readonly EventEnvelope[]): Promise<void>;
}

/** "Am I the one replica that acts?" (`AdvisoryLeadership` from `@stratavore/persistence`). */
export interface Leadership {
  isLeader(): boolean;
}

export interface DetectorLogger {
  warn(message: string): void;
}

export interface StaleRunnerDetectorDeps {
  readonly store: StaleStore;
  readonly leadership: Leadership;
  readonly clock: Clock;
  readonly events: HeartbeatEventFactory;
  readonly rules: StaleRules;
  readonly metrics: HeartbeatIngestMetrics;
  readonly logger: DetectorLogger;
  /**
   * Runs before each scan: the module flushes this replica's buffered heartbeats, so a
   * heartbeat received but not yet written never makes its runner look silent.
   */
  readonly beforeScan?: () => Promise<void>;
}

export type CheckResult =
  | { readonly kind: 'not-leader' }
  | { readonly kind: 'mass-stale'; readonly stale: number; readonly active: number }
  | { readonly kind: 'checked'; readonly reported: readonly string[]; readonly inGrace: number };

const SAMPLE = 20;

/**
 * Finds runners whose heartbeats stopped and reports them (`heartbeat.runner-stale`, reason
 * `heartbeat_timeout`) for runner-manager to fail. Only the leader acts; its grace period
 * starts when it becomes the leader. The brake raises one `heartbeat.mass-stale` per episode
 * instead of failing a majority of the fleet.
 */
export class StaleRunnerDetector {
  private actingSince: Date | null = null;
  private massStaleRaised = false;

  constructor(private readonly deps: StaleRunnerDetectorDeps) {}

  /** This replica became the leader: the grace period starts now. */
  onElected(): void {
    this.actingSince = this.deps.clock.now();
    this.massStaleRaised = false;
  }

  onDemoted(): void {
    this.actingSince = null;
  }

  async check(): Promise<CheckResult> {
    const { store, clock, rules, metrics, events } = this.deps;
    if (!this.deps.leadership.isLeader()) return { kind: 'not-leader' };
    this.actingSince ??= clock.now();
    const actingSince = this.actingSince;
    await this.deps.beforeScan?.();
    const now = clock.now();
    const judgement = judgeStaleRunners(await store.listActiveRunners(), now, actingSince, rules);
    metrics.staleRunners.set(judgement.stale.length);

    if (judgement.massStale) {
      if (!this.massStaleRaised) {
        await store.appendEvents([
          events.build(
            'heartbeat.mass-stale',
            'heartbeat-ingest',
            `stale-check-${now.toISOString()}`,
            {
              activeRunners: judgement.active,
              staleRunners: judgement.stale.length,
              sampleRunnerIds: judgement.stale.slice(0, SAMPLE).map((s) => s.runner.runnerId),
              detectedAt: now.toISOString(),
            },
          ),
        ]);
        this.massStaleRaised = true;
        metrics.massStale.inc();
        this.deps.logger.warn(
          `${judgement.stale.length} of ${judgement.active} active runners are silent: failing none (mass-stale brake)`,
        );
      }
      return { kind: 'mass-stale', stale: judgement.stale.length, active: judgement.active };
    }
    this.massStaleRaised = false;

    const decision = await store.reportStale(
      judgement.toReport.map((s) => s.runner.runnerId),
      now,
      (fresh) => {
        // Judged again on the locked rows: a heartbeat flushed since the scan saves the runner.
        const confirmed = fresh.flatMap((runner) => {
          const verdict = staleness(runner, now, actingSince, rules);
          return verdict === 'in-grace' || verdict === null || runner.staleReportedAt !== null
            ? []
            : [verdict];
        });
        return {
          runnerIds: confirmed.map((s) => s.runner.runnerId),
          events: confirmed.map(({ runner, silentForMs }) =>
            events.build('heartbeat.runner-stale', runner.runnerId, `stale-${runner.runnerId}`, {
              runnerId: runner.runnerId,
              projectId: runner.projectId,
              reason: 'heartbeat_timeout',
              lastHeartbeatAt: runner.lastHeartbeatAt?.toISOString() ?? null,
              silentForMs,
              intervalMs: runner.intervalMs,
              staleAfterIntervals: rules.staleAfterIntervals,
              detectedAt: now.toISOString(),
            }),
          ),
        };
      },
    );
    metrics.staleReported.inc(decision.runnerIds.length);
    return { kind: 'checked', reported: decision.runnerIds, inGrace: judgement.inGrace };
  }
}
