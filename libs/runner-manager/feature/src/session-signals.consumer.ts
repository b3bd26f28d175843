import { Logger } from '@nestjs/common';
import { sessionReportedV1 } from '@stratavore/contracts';
import { type DeliveredEvent, type HandlerResult } from '@stratavore/messaging';
import { decideActivity, isTerminal, type Runner } from '@stratavore/runner-manager-domain';

import { RUNNER_MANAGER_CONSUMER } from './heartbeat-signals.consumer';
import { RunnerLifecycle, type RunnerManagerDeps } from './runner-lifecycle';
import { replanRestart } from './runner-restarts';

/** What runner-manager hears of sessions (heartbeat-ingest's `session.reported`). */
export const SESSION_SIGNAL_PATTERNS = ['session.reported'] as const;

function sameResult(a: Runner['sessionResult'], b: Runner['sessionResult']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Keeps each runner's Claude session id and session result from `session.reported`, once per
 * event (inbox row and update commit together). Restart decisions read them: when the runner
 * has already ended, a result learned now can plan its restart (a usage limit after exit 0),
 * move it to the limit's reset time, resume the session now known, or cancel it (a limit the
 * user set). A snapshot without a result never clears a result already known.
 *
 * The snapshot's `activity` (the agent's Claude Code hooks) moves a live runner between
 * `running`, `waiting` and `idle` (`runner.waiting`, `runner.idle`, `runner.resumed-work`), once
 * per change: an activity no newer than the one the runner holds is ignored (`decideActivity`);
 * a runner not yet running keeps it, and moves on to it once running (`heldActivityState`).
 */
export class SessionSignalsConsumer {
  private readonly logger = new Logger('SessionSignals');
  private readonly lifecycle: RunnerLifecycle;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  /** True for the event types this consumer handles. */
  accepts(type: string): boolean {
    return (SESSION_SIGNAL_PATTERNS as readonly string[]).includes(type);
  }

  readonly handle = async ({ envelope }: DeliveredEvent): Promise<HandlerResult> => {
    const parsed = sessionReportedV1.data.safeParse(envelope.data);
    if (!parsed.success) return 'dead-letter';
    const { runnerId, session } = parsed.data;
    const ctx = { correlationId: envelope.correlationId };
    return this.deps.store.transaction(async (tx): Promise<HandlerResult> => {
      const seen = await tx.runners.findById(runnerId);
      if (!seen) return 'dead-letter';
      await tx.lockProject(seen.projectId);
      const runner = (await tx.runners.findById(runnerId, { lock: true })) ?? seen;
      const activity = decideActivity(runner, session.activity);
      if (!(await tx.claimInbox(RUNNER_MANAGER_CONSUMER, envelope.id))) return 'ack';
      const next: Runner = {
        ...runner,
        sessionId: session.sessionId,
        sessionResult: session.result ?? runner.sessionResult,
        ...(activity.kind === 'record' ? { activity: activity.activity } : {}),
      };
      if (activity.kind === 'move') {
        // The transition saves the session fields with the move, and writes its event.
        await this.lifecycle.transition(
          tx,
          next,
          activity.to,
          { activity: activity.activity },
          ctx,
        );
        return 'ack';
      }
      if (
        activity.kind !== 'record' &&
        next.sessionId === runner.sessionId &&
        sameResult(next.sessionResult, runner.sessionResult)
      ) {
        return 'ack';
      }
      await tx.runners.save(next);
      if (isTerminal(next.state)) {
        this.logger.debug(`runner ${runner.id}: session result after its end; restart reviewed`);
        await replanRestart(tx, next, this.deps, ctx);
      }
      return 'ack';
    });
  };
}
