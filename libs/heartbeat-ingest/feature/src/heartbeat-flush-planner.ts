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
  readonly counters: readonly CounterName[];
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
 * cumulative counters (so a repeated report books nothing and a lost one is covered by the
 * next); `heartbeat.first-received` on its first heartbeat and `heartbeat.exited` on its exit
 * report, each once, and never for a runner that has already ended.
 */
export function planFlush(
  locked: readonly RegisteredRunner[],
  entries: readonly BufferedHeartbeat[],
  events: HeartbeatEventFactory,
): PlannedFlush {
  const byRunner = new Map(entries.map((e) => [e.report.runnerId, e]));
  const progress: RunnerProgress[] = [];
  const liveness: LivenessRow[] = [];
  const envelopes: FlushPlan['events'][number][] = [];
  const resets: CounterReset[] = [];
  const seen = new Set<string>();

  for (const runner of locked) {
    const entry = byRunner.get(runner.runnerId);
    if (!entry) continue;
    seen.add(runner.runnerId);
    const { report, receivedAt, correlationId } = entry;
    const ref = { runnerId: runner.runnerId, projectId: runner.projectId };
    liveness.push({
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
      startedAt: runner.startedAt,
      exitReportedAt: runner.exitReportedAt,
    };
    let changed = false;

    if (runner.lastSeq === null || report.seq > runner.lastSeq) {
      const usage = computeUsageDelta(runner.counters, report.counters);
      if (usage.resets.length > 0)
        resets.push({ runnerId: runner.runnerId, counters: usage.resets });
      if (hasUsage(usage.delta)) {
        envelopes.push(
          events.build('usage.reported', runner.runnerId, correlationId, {
            ...ref,
            ...(report.sessionId === null ? {} : { sessionId: report.sessionId }),
            ...usage.delta,
            observedAt: receivedAt.toISOString(),
          }),
        );
      }
      next = { ...next, lastSeq: report.seq, counters: usage.base };
      changed = true;
    }

    if (!runner.ended && runner.startedAt === null) {
      envelopes.push(
        events.build('heartbeat.first-received', runner.runnerId, correlationId, {
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
      envelopes.push(
        events.build('heartbeat.exited', runner.runnerId, correlationId, {
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

    if (changed) progress.push(next);
  }

  const unknown = entries.map((e) => e.report.runnerId).filter((id) => !seen.has(id));
  return { plan: { progress, liveness, events: envelopes }, resets, unknown };
}
