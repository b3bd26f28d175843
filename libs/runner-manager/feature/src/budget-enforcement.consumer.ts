import { Logger } from '@nestjs/common';
import { type DeliveredEvent, type HandlerResult } from '@stratavore/messaging';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import { isTerminal, type Runner } from '@stratavore/runner-manager-domain';
import { z } from 'zod';

import { RUNNER_MANAGER_CONSUMER } from './heartbeat-signals.consumer';
import { type PendingLaunch, RunnerLifecycle, type RunnerManagerDeps } from './runner-lifecycle';

/** What runner-manager hears from budget-service (on its own consumer queue and inbox). */
export const BUDGET_ENFORCEMENT_PATTERNS = ['budget.exceeded', 'budget.overrun'] as const;

/** The fields of `budget.exceeded` this consumer reads; common to versions 1 and 2. */
const budgetExceededSchema = z.object({
  budgetId: z.uuid(),
  scope: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('global') }),
    z.object({ kind: z.literal('project'), projectId: z.uuid() }),
  ]),
  enforcement: z.enum(['soft', 'hard']),
  /** Version 2 only: budget-service's sentence. */
  message: z.string().optional(),
});

/** The fields of `budget.overrun` (v1) this consumer reads. */
const budgetOverrunSchema = budgetExceededSchema.extend({
  runnerId: z.uuid(),
  message: z.string(),
});

type BudgetExceeded = z.output<typeof budgetExceededSchema>;
type BudgetOverrun = z.output<typeof budgetOverrunSchema>;

/** Runners moved towards their end, and queued launches admitted into the slots they freed. */
interface Stops {
  readonly stopped: Runner[];
  readonly admitted: PendingLaunch[];
}

/** How many times the scope is listed again for runners launched while the locks were taken. */
const MAX_LOCK_ROUNDS = 5;

function describeScope(scope: BudgetExceeded['scope']): string {
  return scope.kind === 'global' ? 'global' : `project ${scope.projectId}`;
}

/**
 * Enforces hard budgets during the run, gracefully, as `kill` without `--force` does: running
 * -> stopping (`runner.stopping`, `requestedBy: budget`, the budget's message as reason) and
 * SIGTERM to its agent, so the session stays resumable; pending or starting -> stopped.
 *
 * - `budget.exceeded` with `enforcement: hard` stops every active runner of the scope (every
 *   runner for `global`, the project's for `project`).
 * - `budget.overrun` stops the one runner that spent into an exceeded hard budget: a runner
 *   that started after the scope's runners were stopped (its reservation was granted just
 *   before the limit was reached). A runner already stopping or ended is left alone.
 *
 * Once per event: the inbox row and the transitions commit together. A soft budget stops
 * nothing; it is logged. With budgets off (`BUDGETS=off`) the events are acknowledged and
 * ignored. New launches are refused by budget-service itself while the budget is exceeded.
 */
export class BudgetEnforcementConsumer {
  private readonly lifecycle: RunnerLifecycle;
  private readonly logger = new Logger('BudgetEnforcement');

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  /** True for the event types this consumer handles. */
  accepts(type: string): boolean {
    return (BUDGET_ENFORCEMENT_PATTERNS as readonly string[]).includes(type);
  }

  readonly handle = async (delivered: DeliveredEvent): Promise<HandlerResult> =>
    delivered.envelope.type === 'budget.overrun'
      ? this.handleOverrun(delivered)
      : this.handleExceeded(delivered);

  private async handleExceeded({ envelope }: DeliveredEvent): Promise<HandlerResult> {
    const parsed = budgetExceededSchema.safeParse(envelope.data);
    if (!parsed.success) return 'dead-letter';
    const event = parsed.data;
    const what = `budget ${event.budgetId} (${describeScope(event.scope)}, ${event.enforcement})`;
    if (this.deps.budgets === undefined) {
      this.logger.log(`${what} exceeded; budgets are off (BUDGETS=off): nothing stopped`);
      return 'ack';
    }
    const ctx = { correlationId: envelope.correlationId };
    const outcome = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.claimInbox(RUNNER_MANAGER_CONSUMER, envelope.id))) return null;
      if (event.enforcement === 'soft') return { stopped: [], admitted: [] };
      return this.stopScope(tx, event, ctx);
    });
    if (outcome === null) return 'ack';
    if (event.enforcement === 'soft') {
      this.logger.warn(
        `${what} exceeded; soft enforcement, nothing stopped${event.message ? `: ${event.message}` : ''}`,
      );
      return 'ack';
    }
    await this.afterCommit(outcome, ctx);
    this.logger.warn(
      `${what} exceeded: stopping ${outcome.stopped.length} runner(s)${outcome.stopped.length > 0 ? `: ${outcome.stopped.map((r) => r.id).join(', ')}` : ''}`,
    );
    return 'ack';
  }

  private async handleOverrun({ envelope }: DeliveredEvent): Promise<HandlerResult> {
    const parsed = budgetOverrunSchema.safeParse(envelope.data);
    if (!parsed.success) return 'dead-letter';
    const event = parsed.data;
    const what = `runner ${event.runnerId} overran budget ${event.budgetId} (${describeScope(event.scope)}, ${event.enforcement})`;
    if (this.deps.budgets === undefined || event.enforcement === 'soft') {
      this.logger.log(
        `${what}; ${event.enforcement === 'soft' ? 'soft enforcement' : 'budgets are off (BUDGETS=off)'}: nothing stopped`,
      );
      return 'ack';
    }
    const ctx = { correlationId: envelope.correlationId };
    const outcome = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.claimInbox(RUNNER_MANAGER_CONSUMER, envelope.id))) return null;
      return this.stopOverrunning(tx, event, ctx);
    });
    if (outcome === null) return 'ack';
    await this.afterCommit(outcome, ctx);
    this.logger.warn(
      outcome.stopped.length > 0
        ? `${what}: stopping it`
        : `${what}: already stopping, ended or unknown; nothing to do`,
    );
    return 'ack';
  }

  /** Signals the stopped runners' agents, then starts the queued launches admitted. */
  private async afterCommit(outcome: Stops, ctx: { readonly correlationId: string }) {
    for (const runner of outcome.stopped) {
      // An attached runner's agent hears the stop in its next heartbeat answer.
      if (runner.agentPid === null || runner.attached === true) continue;
      await this.deps.launcher.signal(runner, 'SIGTERM').catch((error: unknown) => {
        this.logger.warn(`runner ${runner.id}: could not signal its agent: ${String(error)}`);
      });
    }
    // Runners stopped before they ran free slots; the queued launches admitted into them are
    // refused by budget-service when they reserve, and fail with its message.
    await this.lifecycle.startAgents(outcome.admitted, ctx);
  }

  /** Stops the runner of a `budget.overrun` under its project's lock. */
  private async stopOverrunning(
    tx: RunnerManagerTransaction,
    event: BudgetOverrun,
    ctx: { readonly correlationId: string },
  ): Promise<Stops> {
    const seen = await tx.runners.findById(event.runnerId);
    if (!seen || isTerminal(seen.state) || seen.state === 'stopping') {
      return { stopped: [], admitted: [] };
    }
    await tx.lockProject(seen.projectId);
    const current = await tx.runners.findById(seen.id, { lock: true });
    if (!current) return { stopped: [], admitted: [] };
    return this.stopRunner(tx, current, event.message, ctx);
  }

  /**
   * Takes the project locks of every active runner of the scope (in a fixed order; the scope
   * is listed again until no runner of an unlocked project appeared), then moves each runner.
   */
  private async stopScope(
    tx: RunnerManagerTransaction,
    event: BudgetExceeded,
    ctx: { readonly correlationId: string },
  ): Promise<Stops> {
    const projectId = event.scope.kind === 'project' ? event.scope.projectId : undefined;
    const locked = new Set<string>();
    let active = await tx.runners.listActive(projectId);
    for (let round = 0; round < MAX_LOCK_ROUNDS; round++) {
      const unlocked = [...new Set(active.map((r) => r.projectId))]
        .filter((id) => !locked.has(id))
        .sort();
      if (unlocked.length === 0) break;
      for (const id of unlocked) {
        await tx.lockProject(id);
        locked.add(id);
      }
      active = await tx.runners.listActive(projectId);
    }
    const reason = event.message ?? `budget ${event.budgetId} exceeded`;
    const stopped: Runner[] = [];
    const admitted: PendingLaunch[] = [];
    for (const seen of active) {
      if (!locked.has(seen.projectId)) continue;
      const current = await tx.runners.findById(seen.id, { lock: true });
      if (!current) continue;
      const moved = await this.stopRunner(tx, current, reason, ctx);
      stopped.push(...moved.stopped);
      admitted.push(...moved.admitted);
    }
    return { stopped, admitted };
  }

  /**
   * Stops one runner (its row locked, its project's lock held) for a budget: running, waiting
   * or idle -> stopping; pending or starting -> stopped; desired state `stop`. An ended runner
   * is left alone; a stopping one only gets the desired state.
   */
  private async stopRunner(
    tx: RunnerManagerTransaction,
    current: Runner,
    reason: string,
    ctx: { readonly correlationId: string },
  ): Promise<Stops> {
    if (isTerminal(current.state)) return { stopped: [], admitted: [] };
    const wanted: Runner = {
      ...current,
      desiredState: current.desiredState === 'kill' ? 'kill' : 'stop',
    };
    switch (current.state) {
      case 'running':
      case 'waiting':
      case 'idle': {
        const moved = await this.lifecycle.transition(
          tx,
          wanted,
          'stopping',
          { requestedBy: 'budget', reason },
          ctx,
        );
        return { stopped: [moved.runner], admitted: moved.admitted };
      }
      case 'pending':
      case 'starting': {
        const moved = await this.lifecycle.transition(tx, wanted, 'stopped', {}, ctx);
        return { stopped: [moved.runner], admitted: moved.admitted };
      }
      case 'stopping':
        // Already on its way out; its agent was signalled by whoever asked.
        if (current.desiredState === 'run') await tx.runners.save(wanted);
        return { stopped: [], admitted: [] };
    }
  }
}
