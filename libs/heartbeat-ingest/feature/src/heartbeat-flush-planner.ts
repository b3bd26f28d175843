import { type HeartbeatExit } from '@stratavore/contracts';
import {
  type FlushPlan,
  type LivenessRow,
  type RegisteredRunner,
  type RegistryDesiredState,
  type RunnerProgress,
} from '@stratavore/heartbeat-ingest-data-access';

import { type BufferedHeartbeat } from './heartbeat-buffer';
import { type HeartbeatEventFactory } from './heartbeat-events';
import { computeCostDelta, sessionDigest, singleModel } from './session-progress';
import { computeUsageDelta, type CounterName, hasUsage } from './usage-delta';

export type ExitOutcome =
  | { readonly outcome: 'completed' }
  | { readonly outcome: 'stopped' }
  | {
      readonly outcome: 'failed';
      readonly failureReason: 'nonzero_exit' | 'killed' | 'agent_crashed';
    };

/**
 * How an exited runner ended: `stopped` when a stop was asked for (whatever the code),
 * `completed` on exit code 0, `failed` otherwise (`killed` by a signal, `nonzero_exit`, or
 * `agent_crashed` when the agent could report neither).
 */
export function exitOutcome(exit: HeartbeatExit, desiredState: RegistryDesiredState): ExitOutcome {
  if (desiredState !== 'run') return { outcome: 'stopped' };
  if (exit.signal !== null) return { outcome: 'failed', failureReason: 'killed' };
  if (exit.code === 0) return { outcome: 'completed' };
  if (exit.code === null) return { outcome: 'failed', failureReason: 'agent_crashed' };
  return { outcome: 'failed', failureReason: 'nonzero_exit' };
}

export interface CounterReset {
  readonly runnerId: string;
  /** Token counters that went down, and `costUsd` when the session's cost did. */
  readonly counters: readonly (CounterName | 'costUsd')[];
}

export interface PlannedFlush {
  readonly plan: FlushPlan;
  readonly resets: readonly CounterReset[];
  /** Buffered runners that are not in the registry (nothing is written for them). */
  readonly unknown: readonly string[];
}

/**
 * Turns buffered heartbeats and the locked registry rows into one flush. Per runner:
 * liveness always; usage only for a seq above the last booked one, as the growth of the
 * cumulative counters and session cost (so a repeated report books nothing and a lost one is
 * covered by the next); `session.reported` for such a report whose session snapshot differs
 * from the last one emitted; `heartbeat.first-received` on its first heartbeat and
 * `heartbeat.exited` on its exit report, each once, and never for a runner that has already
 * ended.
 */
export function planFlush(
  locked: readonly RegisteredRunner[],
  entries: readonly BufferedHeartbeat[],
  events: HeartbeatEventFactory,
): PlannedFlush {
  const planning = new FlushPlanning(entries, events);
  for (const runner of locked) planning.add(runner);
  return planning.result();
}

/**
 * {@link planFlush} in slices of `sliceSize` runners, awaiting `pause` between two slices: each
 * event costs a contract check and an HMAC (tens of microseconds), so a batch whose heartbeats
 * all carry events would otherwise hold the event loop for milliseconds at a time.
 */
export async function planFlushInSlices(
  locked: readonly RegisteredRunner[],
  entries: readonly BufferedHeartbeat[],
  events: HeartbeatEventFactory,
  slicing: { readonly sliceSize: number; readonly pause: () => Promise<void> },
): Promise<PlannedFlush> {
  const planning = new FlushPlanning(entries, events);
  for (let i = 0; i < locked.length; i += 1) {
    if (i > 0 && i % slicing.sliceSize === 0) await slicing.pause();
    planning.add(locked[i]!);
  }
  return planning.result();
}

/** The plan of one flush, one locked runner at a time. */
class FlushPlanning {
  private readonly byRunner: Map<string, BufferedHeartbeat>;
  private readonly progress: RunnerProgress[] = [];
  private readonly liveness: LivenessRow[] = [];
  private readonly events: FlushPlan['events'][number][] = [];
  private readonly resets: CounterReset[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly entries: readonly BufferedHeartbeat[],
    private readonly factory: HeartbeatEventFactory,
  ) {
    this.byRunner = new Map(entries.map((e) => [e.report.runnerId, e]));
  }

  result(): PlannedFlush {
    const unknown = this.entries.map((e) => e.report.runnerId).filter((id) => !this.seen.has(id));
    return {
      plan: { progress: this.progress, liveness: this.liveness, events: this.events },
      resets: this.resets,
      unknown,
    };
  }

  add(runner: RegisteredRunner): void {
    const entry = this.byRunner.get(runner.runnerId);
    if (!entry) return;
    this.seen.add(runner.runnerId);
    const { report, receivedAt, correlationId } = entry;
    const ref = { runnerId: runner.runnerId, projectId: runner.projectId };
    this.liveness.push({
      runnerId: runner.runnerId,
      lastHeartbeatAt: receivedAt,
      sentAt: new Date(report.sentAt),
      seq: report.seq,
      status: report.status,
      pid: report.pid,
      cpuPercent: report.cpuPercent,
      memoryBytes: report.memoryBytes,
      agentVersion: report.agentVersion,
      sessionId: report.sessionId,
    });

    let next: RunnerProgress = {
      runnerId: runner.runnerId,
      lastSeq: runner.lastSeq,
      counters: runner.counters,
      session: runner.session,
      startedAt: runner.startedAt,
      exitReportedAt: runner.exitReportedAt,
    };
    let changed = false;

    if (runner.lastSeq === null || report.seq > runner.lastSeq) {
      const { session } = report;
      const usage = computeUsageDelta(runner.counters, report.counters);
      const cost = computeCostDelta(runner.session, session);
      const reset = cost.reset ? [...usage.resets, 'costUsd' as const] : usage.resets;
      if (reset.length > 0) this.resets.push({ runnerId: runner.runnerId, counters: reset });
      if (hasUsage(usage.delta) || (cost.deltaUsd ?? 0) > 0) {
        const sessionId = report.sessionId ?? session?.sessionId ?? null;
        const model = singleModel(session);
        this.events.push(
          this.factory.build('usage.reported', runner.runnerId, correlationId, {
            ...ref,
            ...(sessionId === null ? {} : { sessionId }),
            ...(model === undefined ? {} : { model }),
            ...usage.delta,
            ...(cost.deltaUsd === null ? {} : { costUsd: cost.deltaUsd }),
            observedAt: receivedAt.toISOString(),
          }),
        );
      }
      let digest = runner.session.digest;
      if (session) {
        const current = sessionDigest(session);
        if (current !== digest) {
          this.events.push(
            this.factory.build('session.reported', runner.runnerId, correlationId, {
              ...ref,
              seq: report.seq,
              observedAt: receivedAt.toISOString(),
              session,
            }),
          );
          digest = current;
        }
      }
      next = {
        ...next,
        lastSeq: report.seq,
        counters: usage.base,
        session: { digest, ...cost.base },
      };
      changed = true;
    }

    if (!runner.ended && runner.startedAt === null) {
      this.events.push(
        this.factory.build('heartbeat.first-received', runner.runnerId, correlationId, {
          ...ref,
          seq: report.seq,
          pid: report.pid,
          sessionId: report.sessionId,
          receivedAt: receivedAt.toISOString(),
        }),
      );
      next = { ...next, startedAt: receivedAt };
      changed = true;
    }

    if (!runner.ended && report.exit !== undefined && runner.exitReportedAt === null) {
      const outcome = exitOutcome(report.exit, runner.desiredState);
      this.events.push(
        this.factory.build('heartbeat.exited', runner.runnerId, correlationId, {
          ...ref,
          ...outcome,
          exitCode: report.exit.code,
          signal: report.exit.signal,
          sessionId: report.sessionId,
          receivedAt: receivedAt.toISOString(),
        }),
      );
      next = { ...next, exitReportedAt: receivedAt };
      changed = true;
    }

    if (changed) this.progress.push(next);
  }
}
