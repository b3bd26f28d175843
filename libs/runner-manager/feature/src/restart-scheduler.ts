import { Logger } from '@nestjs/common';
import { type LaunchRunnerRequest, RunnerErrorCode } from '@stratavore/contracts';
import {
  DEFAULT_RESTART_BACKOFF,
  type PlannedRestart,
  restartBackoffMs,
  restartLaunchOf,
  RunnerException,
} from '@stratavore/runner-manager-domain';

import { type DecidedLaunch } from './launch-spec';
import { LaunchRunner } from './runner.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { cancelRestart } from './runner-restarts';

/** "Am I the one replica that acts?" (`AdvisoryLeadership` from `@stratavore/persistence`). */
export interface Leadership {
  isLeader(): boolean;
}

export interface RestartSchedulerOptions {
  /** Plans relaunched per tick at most (default 20). */
  readonly batchSize?: number;
}

/** What one tick did. */
export type RestartTickResult =
  | { readonly kind: 'not-leader' }
  | { readonly kind: 'checked'; readonly settled: readonly PlannedRestart[] };

/** Another process settled the plan between the read and the launch's lock. */
class PlanAlreadySettled extends Error {}

/** Failures after which the relaunch is tried again later instead of being given up. */
const TRANSIENT: ReadonlySet<RunnerErrorCode> = new Set([
  RunnerErrorCode.BudgetUnavailable,
  RunnerErrorCode.Internal,
]);

/**
 * Relaunches ended runners whose planned restart is due (docs/runners.md, "Restart policy"). Only
 * the leader acts (advisory-lock leadership), and each relaunch marks its plan `launched` (or
 * `queued` when the project is full) in the same transaction that inserts the replacement, under
 * the plan's row lock: a plan is relaunched once even if two processes both believed they led.
 * The replacement goes through the ordinary launch (budget reservation, quota, queue) with
 * `restartOf`, `restarts` = the attempt, the same policy, and `--resume <session>` for a Claude
 * runner whose session is known. A refused relaunch (budget exceeded, project archived) is
 * `failed` with the reason; budget-service unreachable or an unexpected error moves it one
 * backoff step later.
 */
export class RestartScheduler {
  private readonly launch: LaunchRunner;
  private readonly logger = new Logger('RestartScheduler');
  private readonly batchSize: number;

  constructor(
    private readonly deps: RunnerManagerDeps,
    private readonly leadership: Leadership,
    options: RestartSchedulerOptions = {},
  ) {
    this.launch = new LaunchRunner(deps);
    this.batchSize = options.batchSize ?? 20;
  }

  async tick(): Promise<RestartTickResult> {
    if (!this.leadership.isLeader()) return { kind: 'not-leader' };
    const due = await this.deps.store.read((reads) =>
      reads.restarts.due(this.deps.clock.now(), this.batchSize),
    );
    const settled: PlannedRestart[] = [];
    for (const plan of due) {
      if (!this.leadership.isLeader()) break;
      const outcome = await this.relaunch(plan);
      if (outcome !== null) settled.push(outcome);
    }
    return { kind: 'checked', settled };
  }

  /** Relaunches one due plan; `null` when it was settled elsewhere or put off. */
  private async relaunch(plan: PlannedRestart): Promise<PlannedRestart | null> {
    const ctx = { correlationId: `restart-${plan.id}` };
    const { runner, project } = await this.deps.store.read(async (reads) => ({
      runner: await reads.runners.findById(plan.runnerId),
      project: await reads.projects.findById(plan.projectId),
    }));
    if (runner === null || project === null) {
      return this.giveUp(plan, 'the runner or its project no longer exists', 'cancelled', ctx);
    }
    if (project.archivedAt !== null) {
      return this.giveUp(plan, `project ${project.name} is archived`, 'cancelled', ctx);
    }
    const restart = restartLaunchOf(runner, plan.resumeSessionId);
    const request: LaunchRunnerRequest = {
      project: project.id,
      command: [...restart.command],
      mode: runner.mode,
      queue: true,
      restart: runner.restartPolicy,
      ...(runner.restartPolicy === 'on-failure' ? { maxRestarts: runner.maxRestarts } : {}),
      ...(restart.prompt === null ? {} : { prompt: restart.prompt }),
    };
    // Set inside the launch's transaction, read once it committed.
    const outcome: { settled: PlannedRestart | null } = { settled: null };
    try {
      await this.launch.execute(request, ctx, {
        origin: {
          ...(runner.cwd === null ? {} : { cwd: runner.cwd }),
          resumedFrom: restart.resumedFrom,
          restartOf: runner.id,
          restarts: plan.attempt,
        },
        // It goes on in the worktree its runner worked in; a removed one refuses the relaunch.
        ...(runner.worktree ? { worktree: runner.worktree.runnerId } : {}),
        inTransaction: async (tx, decided: DecidedLaunch) => {
          const current = await tx.restarts.findById(plan.id, { lock: true });
          if (current === null || current.state !== 'scheduled') throw new PlanAlreadySettled();
          const settled: PlannedRestart = {
            ...current,
            state: decided.kind,
            replacementId: decided.kind === 'launched' ? decided.runnerId : decided.queuedLaunchId,
            updatedAt: this.deps.clock.now(),
          };
          await tx.restarts.save(settled);
          outcome.settled = settled;
        },
      });
    } catch (error) {
      if (error instanceof PlanAlreadySettled) return null;
      if (error instanceof RunnerException && !TRANSIENT.has(error.code)) {
        return this.giveUp(plan, `relaunch refused: ${error.message}`, 'failed', ctx);
      }
      await this.putOff(plan, error);
      return null;
    }
    const done = outcome.settled;
    if (done !== null) {
      this.logger.log(
        `runner ${runner.id}: restart ${done.attempt}/${runner.maxRestarts} ${done.state} as ${done.replacementId ?? '?'}${done.resumeSessionId === null ? '' : `, resuming session ${done.resumeSessionId}`}`,
      );
    }
    return done;
  }

  /** Marks the plan `cancelled` or `failed` (with `runner.restart-cancelled`) unless settled. */
  private async giveUp(
    plan: PlannedRestart,
    reason: string,
    state: 'cancelled' | 'failed',
    ctx: { readonly correlationId: string },
  ): Promise<PlannedRestart | null> {
    return this.deps.store.transaction(async (tx) => {
      await tx.lockProject(plan.projectId);
      const current = await tx.restarts.findById(plan.id, { lock: true });
      if (current === null || current.state !== 'scheduled') return null;
      return cancelRestart(
        tx,
        current,
        { id: plan.runnerId, projectId: plan.projectId },
        reason,
        this.deps,
        ctx,
        state,
      );
    });
  }

  /** Moves a plan whose relaunch failed for a passing reason one backoff step later. */
  private async putOff(plan: PlannedRestart, error: unknown): Promise<void> {
    const delay = restartBackoffMs(
      plan.attempt,
      this.deps.restartBackoff ?? DEFAULT_RESTART_BACKOFF,
      this.deps.random ?? Math.random,
    );
    const at = new Date(this.deps.clock.now().getTime() + delay);
    this.logger.warn(
      `restart ${plan.id} of runner ${plan.runnerId} put off to ${at.toISOString()}: ${error instanceof Error ? error.message : String(error)}`,
    );
    await this.deps.store.transaction(async (tx) => {
      const current = await tx.restarts.findById(plan.id, { lock: true });
      if (current === null || current.state !== 'scheduled') return;
      await tx.restarts.save({ ...current, restartAt: at, updatedAt: this.deps.clock.now() });
    });
  }
}

/** Runs a callback periodically; tests drive {@link RestartScheduler.tick} themselves. */
export interface RestartTimer {
  every(intervalMs: number, run: () => void): { cancel(): void };
}

/** {@link RestartTimer} on `setInterval` (unref'd: it never keeps the process alive). */
export const intervalRestartTimer: RestartTimer = {
  every(intervalMs, run) {
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};
