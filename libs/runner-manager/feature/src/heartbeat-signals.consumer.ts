import { Logger } from '@nestjs/common';
import {
  type EventDataOf,
  type EventEnvelope,
  type heartbeatExitedV1,
  type heartbeatFirstReceivedV1,
  type heartbeatRunnerStaleV1,
} from '@stratavore/contracts';
import { type DeliveredEvent, type HandlerResult } from '@stratavore/messaging';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import {
  canTransition,
  heldActivityState,
  isTerminal,
  type Runner,
} from '@stratavore/runner-manager-domain';

import {
  type PendingLaunch,
  RunnerLifecycle,
  type RunnerManagerDeps,
  type TransitionPatch,
} from './runner-lifecycle';

/** The consumer (queue and inbox) name of runner-manager. */
export const RUNNER_MANAGER_CONSUMER = 'runner-manager';

/** What runner-manager hears from heartbeat-ingest. */
export const HEARTBEAT_SIGNAL_PATTERNS = [
  'heartbeat.first-received',
  'heartbeat.exited',
  'heartbeat.runner-stale',
] as const;

type Decision =
  | { readonly kind: 'move'; readonly to: Runner['state']; readonly patch: TransitionPatch }
  | { readonly kind: 'ignore'; readonly why: string }
  | { readonly kind: 'wait'; readonly why: string };

/**
 * Turns heartbeat-ingest's signals into runner transitions, once per event (inbox row and
 * transition commit together):
 * - `heartbeat.first-received`: starting -> running (with the child's pid), then on to `idle` or
 *   `waiting` when Claude Code's hooks said so before (the activity the runner held); a runner
 *   still `pending` (its launch not yet recorded) is retried later.
 * - `heartbeat.exited`: -> completed | failed | stopped, as heartbeat-ingest read the final report.
 * - `heartbeat.runner-stale`: -> failed with reason `heartbeat_timeout`.
 * A signal about a runner that already moved past it (or ended) is acknowledged and ignored.
 * After a runner was failed for `heartbeat_timeout`, or ended while asked to stop, and that
 * transition committed, the launcher reaps its child's process group: an agent that died or hung
 * leaves the real agent command running.
 */
export class HeartbeatSignalsConsumer {
  private readonly lifecycle: RunnerLifecycle;
  private readonly logger = new Logger('HeartbeatSignals');

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  readonly handle = async ({ envelope }: DeliveredEvent): Promise<HandlerResult> => {
    const runnerId = (envelope.data as { runnerId?: unknown }).runnerId;
    if (typeof runnerId !== 'string') return 'dead-letter';
    const ctx = { correlationId: envelope.correlationId };
    const outcome = await this.deps.store.transaction(async (tx): Promise<Outcome> => {
      const seen = await tx.runners.findById(runnerId);
      if (!seen) return { result: 'dead-letter', admitted: [], reap: null };
      await tx.lockProject(seen.projectId);
      const runner = (await tx.runners.findById(runnerId, { lock: true })) ?? seen;
      const decision = decide(envelope, runner);
      if (decision.kind === 'wait') return { result: 'retry', admitted: [], reap: null };
      if (!(await claim(tx, envelope))) return { result: 'ack', admitted: [], reap: null };
      if (decision.kind === 'ignore') {
        this.logger.debug(`${envelope.type} for runner ${runner.id} ignored: ${decision.why}`);
        return { result: 'ack', admitted: [], reap: null };
      }
      let moved = await this.lifecycle.transition(tx, runner, decision.to, decision.patch, ctx);
      // Claude Code was idle or waiting before the first heartbeat was booked.
      const held = heldActivityState(moved.runner);
      if (held !== null && moved.runner.activity) {
        moved = await this.lifecycle.transition(
          tx,
          moved.runner,
          held,
          { activity: moved.runner.activity },
          ctx,
        );
      }
      return {
        result: 'ack',
        admitted: moved.admitted,
        reap: needsReaping(moved.runner) ? moved.runner : null,
      };
    });
    if (outcome.reap) await this.reap(outcome.reap);
    await this.lifecycle.startAgents(outcome.admitted, ctx);
    return outcome.result;
  };

  /** After commit; a failure is logged, never retried (the transition is recorded). */
  private async reap(runner: Runner): Promise<void> {
    try {
      await this.deps.launcher.reap(runner);
    } catch (error) {
      this.logger.warn(`runner ${runner.id}: could not reap its process group: ${String(error)}`);
    }
  }
}

interface Outcome {
  readonly result: HandlerResult;
  readonly admitted: PendingLaunch[];
  /** The ended runner whose process group is to be reaped after commit. */
  readonly reap: Runner | null;
}

/** Failed for silence, or ended on a stop request: its child may outlive its agent. */
function needsReaping(runner: Runner): boolean {
  // An attached runner's command belongs to the user's terminal, maybe on another machine.
  if (!isTerminal(runner.state) || runner.attached === true) return false;
  return runner.failureReason === 'heartbeat_timeout' || runner.desiredState !== 'run';
}

function claim(tx: RunnerManagerTransaction, envelope: EventEnvelope): Promise<boolean> {
  return tx.claimInbox(RUNNER_MANAGER_CONSUMER, envelope.id);
}

/** What a signal means for a runner in its current state. Exported for tests. */
export function decide(envelope: EventEnvelope, runner: Runner): Decision {
  if (isTerminal(runner.state)) return { kind: 'ignore', why: `runner already ${runner.state}` };
  switch (envelope.type) {
    case 'heartbeat.first-received': {
      const data = envelope.data as EventDataOf<typeof heartbeatFirstReceivedV1>;
      if (runner.state === 'pending') return { kind: 'wait', why: 'launch not recorded yet' };
      if (runner.state !== 'starting') return { kind: 'ignore', why: `runner is ${runner.state}` };
      return {
        kind: 'move',
        to: 'running',
        patch: { pid: data.pid, sessionId: data.sessionId },
      };
    }
    case 'heartbeat.exited': {
      const data = envelope.data as EventDataOf<typeof heartbeatExitedV1>;
      if (runner.state === 'pending') return { kind: 'wait', why: 'launch not recorded yet' };
      const patch: TransitionPatch = {
        exitCode: data.exitCode,
        signal: data.signal,
        ...(data.sessionId === null ? {} : { sessionId: data.sessionId }),
        ...(data.outcome === 'failed'
          ? { failureReason: data.failureReason ?? 'nonzero_exit' }
          : {}),
      };
      // Asked to stop: however the process ended on our signal, the runner was stopped (its
      // session can be resumed). runner-manager's desired state is the truth here; the
      // agent may report before heartbeat-ingest heard of the stop request.
      if (runner.desiredState !== 'run' && data.outcome !== 'completed') {
        const { failureReason: _ignored, ...stoppedPatch } = patch;
        return { kind: 'move', to: 'stopped', patch: stoppedPatch };
      }
      if (canTransition(runner.state, data.outcome)) {
        return { kind: 'move', to: data.outcome, patch };
      }
      // An agent that ended while `starting` (before its first heartbeat was booked) failed or
      // was stopped; it cannot have completed without running.
      const to = data.outcome === 'stopped' ? 'stopped' : 'failed';
      return {
        kind: 'move',
        to,
        patch:
          to === 'failed'
            ? { ...patch, failureReason: data.failureReason ?? 'nonzero_exit' }
            : patch,
      };
    }
    case 'heartbeat.runner-stale': {
      const data = envelope.data as EventDataOf<typeof heartbeatRunnerStaleV1>;
      return {
        kind: 'move',
        to: 'failed',
        patch: {
          failureReason: 'heartbeat_timeout',
          detail: `no heartbeat for ${Math.round(data.silentForMs / 1000)} s (${data.staleAfterIntervals} intervals of ${data.intervalMs} ms)`,
        },
      };
    }
    default:
      return { kind: 'ignore', why: `not a heartbeat signal: ${envelope.type}` };
  }
}
