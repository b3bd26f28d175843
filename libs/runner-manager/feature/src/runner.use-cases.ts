import { Logger } from '@nestjs/common';
import {
  type CancelQueuedReply,
  type CancelQueuedRequest,
  type GetRunnerRequest,
  type LaunchRunnerReply,
  type LaunchRunnerRequest,
  type ListRunnersRequest,
  type ProjectStatus,
  type RunnerListReply,
  type RunnerReply,
  type RunnersStatusReply,
  type RunnersStatusRequest,
  type StopRunnerRequest,
} from '@stratavore/contracts';
import { type RunnerManagerReads, type RunnerView } from '@stratavore/runner-manager-data-access';
import {
  isTerminal,
  type Project,
  type QueuedLaunch,
  quotaExceeded,
  type Runner,
  runnerAlreadyEnded,
  RunnerException,
  type RunnerState,
  toQueuedLaunchReply,
  toRunnerReply,
} from '@stratavore/runner-manager-domain';

import { reserveLaunchBudget } from './launch-reservation';
import { type LaunchInternals, launchSpecOf } from './launch-spec';
import { requireProject } from './project.use-cases';
import {
  type GrantedBudget,
  type PendingLaunch,
  type RequestContext,
  RunnerLifecycle,
  type RunnerManagerDeps,
  type TransitionPatch,
} from './runner-lifecycle';
import { cancelScheduledRestartOf } from './runner-restarts';
import { checkWorktreeLaunch, resolveLaunchWorktree } from './runner-worktrees';

async function replyFor(reads: RunnerManagerReads, runner: Runner): Promise<RunnerReply> {
  const project = await reads.projects.findById(runner.projectId);
  return toRunnerReply(
    runner,
    project ?? { id: runner.projectId, name: '(unknown)' },
    await reads.restarts.findByRunner(runner.id),
  );
}

function replyOfView(view: RunnerView): RunnerReply {
  const { runner } = view;
  return toRunnerReply(
    runner,
    { id: runner.projectId, name: view.projectName ?? '(unknown)' },
    view.restart,
  );
}

type LaunchDecision =
  | { readonly kind: 'queued'; readonly project: Project; readonly entry: QueuedLaunch }
  | { readonly kind: 'launched'; readonly launch: PendingLaunch };

/**
 * Launches a runner with the race-free quota of docs/runners.md: with budgets enforced, first
 * reserve the launch's estimate in budget-service for a new runner id (BudgetExceeded with
 * budget-service's message when refused, BudgetUnavailable when it cannot answer); then under
 * the project's advisory lock count the active runners; full -> QuotaExceeded naming the
 * holders, or a queued launch when `queue: true` (both give the reservation back: a queued
 * launch reserves when admitted); else insert the runner (`pending`) and `runner.launched`,
 * commit, then start the agent and record `starting` (or `failed`, `launch_failed`). A launch
 * with `worktree` is first refused (ValidationFailed on `worktree`) when the project cannot have
 * one; its worktree is made by the launcher after commit, before the agent starts in it.
 */
export class LaunchRunner {
  private readonly lifecycle: RunnerLifecycle;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  async execute(
    request: LaunchRunnerRequest,
    ctx: RequestContext,
    internals?: LaunchInternals,
  ): Promise<LaunchRunnerReply> {
    if (request.worktree === true && internals?.worktree === undefined) {
      const project = await this.deps.store.read((reads) => requireProject(reads, request.project));
      await checkWorktreeLaunch(this.deps, project);
    }
    const reservation = await reserveLaunchBudget(this.deps, request, ctx);
    let decision: LaunchDecision;
    try {
      decision = await this.decide(request, reservation, ctx, internals);
    } catch (error) {
      if (reservation) await this.deps.budgets?.release(reservation.reservationId, ctx);
      throw error;
    }
    if (decision.kind === 'queued') {
      if (reservation) await this.deps.budgets?.release(reservation.reservationId, ctx);
      return {
        status: 'queued',
        queuedLaunch: toQueuedLaunchReply(decision.entry, decision.project),
      };
    }
    const [runner] = await this.lifecycle.startAgents([decision.launch], ctx);
    return {
      status: 'launched',
      runner: toRunnerReply(runner ?? decision.launch.runner, decision.launch.project),
    };
  }

  private async decide(
    request: LaunchRunnerRequest,
    reservation: (GrantedBudget & { readonly projectId: string }) | null,
    ctx: RequestContext,
    internals?: LaunchInternals,
  ): Promise<LaunchDecision> {
    return this.deps.store.transaction(async (tx): Promise<LaunchDecision> => {
      // The reservation was made for one project: a rename meanwhile must not move the launch.
      const found = await requireProject(tx, reservation?.projectId ?? request.project);
      await tx.lockProject(found.id);
      // Re-read under the lock: maxRunners or the archive flag may have changed meanwhile.
      const project = (await tx.projects.findById(found.id)) ?? found;
      if (project.archivedAt !== null) throw RunnerException.projectArchived(project.name);
      const spec = launchSpecOf(request, project, internals);
      const worktree = await resolveLaunchWorktree(
        tx,
        request.worktree === true,
        internals?.worktree,
      );
      const holders = await tx.runners.activeOf(project.id);
      if (holders.length >= project.maxRunners) {
        if (!request.queue) throw quotaExceeded(project, holders);
        const entry = await tx.queue.enqueue({
          id: this.deps.ids.uuid(),
          projectId: project.id,
          ...spec,
          createdAt: this.deps.clock.now(),
          estimateTokens: request.estimateTokens ?? null,
          estimateUsd: request.estimateUsd ?? null,
          worktree: worktree.choice,
        });
        await internals?.inTransaction?.(tx, { kind: 'queued', queuedLaunchId: entry.id });
        return { kind: 'queued', project, entry };
      }
      const launch = await this.lifecycle.insertPending(
        tx,
        project,
        { ...spec, worktree: worktree.existing, newWorktree: worktree.createNew },
        ctx,
        reservation ?? undefined,
      );
      await internals?.inTransaction?.(tx, { kind: 'launched', runnerId: launch.runner.id });
      return { kind: 'launched', launch };
    });
  }
}

export interface TransitionRunnerInput extends TransitionPatch {
  readonly runnerId: string;
  readonly to: RunnerState;
}

/**
 * Moves a runner through the state machine (heartbeat-ingest's events, the stale-runner
 * detector): validates the move, writes `runner.<state>`, and when the runner ends admits the
 * project's oldest queued launch in the same transaction, then starts its agent.
 */
export class TransitionRunner {
  private readonly lifecycle: RunnerLifecycle;

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  async execute(input: TransitionRunnerInput, ctx: RequestContext): Promise<RunnerReply> {
    const { runnerId, to, ...patch } = input;
    const { reply, admitted } = await this.deps.store.transaction(async (tx) => {
      const seen = await tx.runners.findById(runnerId);
      if (!seen) throw RunnerException.runnerNotFound(runnerId);
      // Lock order everywhere: the project's advisory lock, then the runner's row.
      await tx.lockProject(seen.projectId);
      const current = (await tx.runners.findById(runnerId, { lock: true })) ?? seen;
      const moved = await this.lifecycle.transition(tx, current, to, patch, ctx);
      return { reply: await replyFor(tx, moved.runner), admitted: moved.admitted };
    });
    await this.lifecycle.startAgents(admitted, ctx);
    return reply;
  }
}

/**
 * Stops a runner: desired state `stop` (or `kill` with `force`); running -> stopping,
 * pending/starting -> stopped; then signals the agent (SIGTERM, or SIGKILL with `force`). An
 * ended runner whose restart is scheduled gets the restart cancelled instead.
 */
export class StopRunner {
  private readonly lifecycle: RunnerLifecycle;
  private readonly logger = new Logger('StopRunner');

  constructor(private readonly deps: RunnerManagerDeps) {
    this.lifecycle = new RunnerLifecycle(deps);
  }

  async execute(request: StopRunnerRequest, ctx: RequestContext): Promise<RunnerReply> {
    // An ended runner waiting for its restart: the stop cancels the restart.
    const cancelled = await cancelScheduledRestartOf(request.runner, this.deps, ctx);
    if (cancelled !== null) return cancelled;
    const desiredState = request.force ? ('kill' as const) : ('stop' as const);
    const { runner, reply, admitted } = await this.deps.store.transaction(async (tx) => {
      const seen = await tx.runners.findById(request.runner);
      if (!seen) throw RunnerException.runnerNotFound(request.runner);
      await tx.lockProject(seen.projectId);
      const current = (await tx.runners.findById(request.runner, { lock: true })) ?? seen;
      if (isTerminal(current.state)) throw runnerAlreadyEnded(current);
      const wanted: Runner = { ...current, desiredState };
      let result: { runner: Runner; admitted: PendingLaunch[] };
      switch (current.state) {
        case 'running':
        case 'waiting':
        case 'idle':
          result = await this.lifecycle.transition(
            tx,
            wanted,
            'stopping',
            { requestedBy: 'user' },
            ctx,
          );
          break;
        case 'pending':
        case 'starting':
          result = await this.lifecycle.transition(tx, wanted, 'stopped', {}, ctx);
          break;
        case 'stopping':
          await tx.runners.save(wanted);
          result = { runner: wanted, admitted: [] };
          break;
      }
      return { ...result, reply: await replyFor(tx, result.runner) };
    });
    // An attached runner's agent is the user's (another machine, maybe): it hears the stop in
    // the answer to its next heartbeat and stops its command itself.
    const attached = runner.attached === true;
    if (runner.agentPid !== null && !attached) {
      await this.deps.launcher
        .signal(runner, request.force ? 'SIGKILL' : 'SIGTERM')
        .catch((error: unknown) => {
          this.logger.warn(`runner ${runner.id}: could not signal its agent: ${String(error)}`);
        });
    }
    await this.lifecycle.startAgents(admitted, ctx);
    if (request.force && runner.state === 'stopping' && !attached) {
      // A killed agent sends no final report: take its command down too, and record the end.
      return (await this.finishKill(runner, ctx)) ?? reply;
    }
    return reply;
  }

  private async finishKill(runner: Runner, ctx: RequestContext): Promise<RunnerReply | null> {
    try {
      await this.deps.launcher.reap(runner);
    } catch (error) {
      this.logger.warn(`runner ${runner.id}: could not reap its processes: ${String(error)}`);
      return null;
    }
    const { reply, admitted } = await this.deps.store.transaction(async (tx) => {
      await tx.lockProject(runner.projectId);
      const current = await tx.runners.findById(runner.id, { lock: true });
      if (!current || current.state !== 'stopping') {
        return { reply: null, admitted: [] as PendingLaunch[] };
      }
      const moved = await this.lifecycle.transition(
        tx,
        current,
        'stopped',
        { signal: 'SIGKILL' },
        ctx,
      );
      return { reply: await replyFor(tx, moved.runner), admitted: moved.admitted };
    });
    await this.lifecycle.startAgents(admitted, ctx);
    return reply;
  }
}

/** Removes a queued launch. */
export class CancelQueued {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: CancelQueuedRequest): Promise<CancelQueuedReply> {
    return this.deps.store.transaction(async (tx) => {
      const seen = await tx.queue.findById(request.queuedLaunch);
      if (!seen) throw RunnerException.queuedLaunchNotFound(request.queuedLaunch);
      await tx.lockProject(seen.projectId);
      // Admission may have taken it between the read and the lock.
      const entry = await tx.queue.findById(request.queuedLaunch);
      if (!entry) throw RunnerException.queuedLaunchNotFound(request.queuedLaunch);
      await tx.queue.remove(entry.id);
      const project = await tx.projects.findById(entry.projectId);
      return {
        cancelled: toQueuedLaunchReply(
          entry,
          project ?? { id: entry.projectId, name: '(unknown)' },
        ),
      };
    });
  }
}

/** Runners by id, by filter, and the per-project quota picture. */
export class RunnerQueries {
  constructor(private readonly deps: RunnerManagerDeps) {}

  /** One query: the runner with its project's name and planned restart. */
  get(request: GetRunnerRequest): Promise<RunnerReply> {
    return this.deps.store.read(async (reads) => {
      const view = await reads.views.findById(request.runner);
      if (!view) throw RunnerException.runnerNotFound(request.runner);
      return replyOfView(view);
    });
  }

  /**
   * One query for the page (plus the project's lookup when filtered by project). It reads one
   * runner more than `limit` to know whether a next page exists. A `cursor` naming no runner is
   * a ValidationFailed on `cursor` (checked only when its page came back empty).
   */
  list(request: ListRunnersRequest): Promise<RunnerListReply> {
    return this.deps.store.read(async (reads) => {
      const project =
        request.project === undefined ? undefined : await requireProject(reads, request.project);
      const views = await reads.views.list({
        ...(project === undefined ? {} : { projectId: project.id }),
        ...(request.states === undefined ? {} : { states: request.states }),
        ...(request.cursor === undefined ? {} : { after: request.cursor }),
        limit: request.limit + 1,
      });
      if (views.length === 0 && request.cursor !== undefined) {
        if (!(await reads.views.exists(request.cursor))) {
          throw RunnerException.validationFailed([
            { field: 'cursor', message: `no runner ${request.cursor}: not a nextCursor` },
          ]);
        }
      }
      const more = views.length > request.limit;
      const page = more ? views.slice(0, request.limit) : views;
      return {
        runners: page.map(replyOfView),
        nextCursor: more ? page[page.length - 1]!.runner.id : null,
      };
    });
  }

  status(request: RunnersStatusRequest): Promise<RunnersStatusReply> {
    return this.deps.store.read(async (reads) => {
      const projects =
        request.project === undefined
          ? await reads.projects.list({ includeArchived: false })
          : [await requireProject(reads, request.project)];
      const ids = projects.map((project) => project.id);
      const counts = await reads.runners.activeCounts(ids);
      const queued = await reads.queue.listOf(ids);
      return {
        projects: projects.map((project): ProjectStatus => {
          const byState = { pending: 0, starting: 0, running: 0, waiting: 0, idle: 0, stopping: 0 };
          for (const row of counts) {
            if (row.projectId !== project.id) continue;
            if (row.state in byState) byState[row.state as keyof typeof byState] = row.count;
          }
          return {
            project: { id: project.id, name: project.name },
            maxRunners: project.maxRunners,
            active: Object.values(byState).reduce((sum, count) => sum + count, 0),
            byState,
            queued: queued
              .filter((entry) => entry.projectId === project.id)
              .map((entry) => toQueuedLaunchReply(entry, project)),
          };
        }),
      };
    });
  }
}
