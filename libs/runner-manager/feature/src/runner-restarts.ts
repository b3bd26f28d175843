import { Logger } from '@nestjs/common';
import {
  buildEnvelope,
  type EventDataOf,
  type EventEnvelope,
  RUNNER_MANAGER_SERVICE,
  type runnerLaunchedV1,
  type RunnerReply,
  type runnerRestartCancelledV1,
  type runnerRestartScheduledV1,
} from '@stratavore/contracts';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import {
  decideRestart,
  DEFAULT_RESTART_BACKOFF,
  isTerminal,
  type PlannedRestart,
  type Project,
  type Runner,
  type RunnerOrigin,
  toRunnerReply,
} from '@stratavore/runner-manager-domain';
import { type z } from 'zod';

import { type RequestContext, type RunnerManagerDeps } from './runner-lifecycle';

const logger = new Logger('RunnerRestarts');

/** The origin of a runner inserted now; `cwd` defaults to the project's path. */
export function originOf(
  spec: Partial<RunnerOrigin>,
  project: Pick<Project, 'path'>,
): RunnerOrigin {
  return {
    cwd: spec.cwd ?? project.path,
    resumedFrom: spec.resumedFrom ?? null,
    restartPolicy: spec.restartPolicy ?? 'no',
    maxRestarts: spec.maxRestarts ?? 0,
    restartOf: spec.restartOf ?? null,
    restarts: spec.restarts ?? 0,
  };
}

/** The origin fields of `runner.launched`. */
export function launchedOrigin(
  runner: Runner,
): Pick<
  EventDataOf<typeof runnerLaunchedV1>,
  'cwd' | 'resumedFrom' | 'restartPolicy' | 'restartOf' | 'restarts'
> {
  return {
    ...(runner.cwd === null ? {} : { cwd: runner.cwd }),
    ...(runner.resumedFrom === null ? {} : { resumedFrom: runner.resumedFrom }),
    restartPolicy: runner.restartPolicy,
    ...(runner.restartOf === null ? {} : { restartOf: runner.restartOf }),
    restarts: runner.restarts,
  };
}

function decide(runner: Runner, deps: RunnerManagerDeps) {
  return decideRestart(
    runner,
    deps.clock.now(),
    deps.restartBackoff ?? DEFAULT_RESTART_BACKOFF,
    deps.random ?? Math.random,
  );
}

/**
 * Plans the restart of a runner that just ended (inside its terminal transition, under the
 * project lock and its row lock): with policy `on-failure` and a failure that earns one
 * (`decideRestart`), inserts the planned restart and `runner.restart-scheduled`. At most one
 * plan per runner.
 */
export async function planRestart(
  tx: RunnerManagerTransaction,
  runner: Runner,
  deps: RunnerManagerDeps,
  ctx: RequestContext,
): Promise<PlannedRestart | null> {
  if (runner.restartPolicy === 'no') return null;
  const existing = await tx.restarts.findByRunner(runner.id, { lock: true });
  if (existing !== null) return existing;
  const decision = decide(runner, deps);
  if (decision.kind === 'none') {
    logger.log(`runner ${runner.id} ended (${runner.state}); no restart: ${decision.why}`);
    return null;
  }
  const now = deps.clock.now();
  const plan: PlannedRestart = {
    id: deps.ids.uuid(),
    runnerId: runner.id,
    projectId: runner.projectId,
    attempt: decision.attempt,
    restartAt: decision.restartAt,
    reason: decision.reason,
    resumeSessionId: decision.resumeSessionId,
    state: 'scheduled',
    replacementId: null,
    detail: null,
    createdAt: now,
    updatedAt: now,
  };
  await tx.restarts.insert(plan);
  await tx.appendEvents([scheduledEvent(plan, runner, deps, ctx)]);
  logger.log(
    `runner ${runner.id} ${runner.state}: restart ${plan.attempt}/${runner.maxRestarts} at ${plan.restartAt.toISOString()} (${plan.reason})`,
  );
  return plan;
}

/**
 * The runner's session result became known (or changed) after it ended: plans its restart if
 * it had none (a usage limit learned after a `completed`), moves a scheduled one to the reset
 * time or to the session now known, or cancels it when the result shows a limit the user set.
 * Caller holds the project lock and the runner's row lock.
 */
export async function replanRestart(
  tx: RunnerManagerTransaction,
  runner: Runner,
  deps: RunnerManagerDeps,
  ctx: RequestContext,
): Promise<void> {
  if (runner.restartPolicy === 'no' || !isTerminal(runner.state)) return;
  const existing = await tx.restarts.findByRunner(runner.id, { lock: true });
  if (existing === null) {
    await planRestart(tx, runner, deps, ctx);
    return;
  }
  if (existing.state !== 'scheduled') return;
  const decision = decide(runner, deps);
  const now = deps.clock.now();
  if (decision.kind === 'none') {
    await cancelRestart(tx, existing, runner, decision.why, deps, ctx);
    return;
  }
  // A backoff keeps its drawn time; a usage limit moves the plan to the reset.
  const restartAt =
    decision.reason === existing.reason && decision.reason === 'backoff'
      ? existing.restartAt
      : decision.restartAt;
  if (
    restartAt.getTime() === existing.restartAt.getTime() &&
    decision.reason === existing.reason &&
    decision.resumeSessionId === existing.resumeSessionId
  ) {
    return;
  }
  const moved: PlannedRestart = {
    ...existing,
    restartAt,
    reason: decision.reason,
    resumeSessionId: decision.resumeSessionId,
    updatedAt: now,
  };
  await tx.restarts.save(moved);
  await tx.appendEvents([scheduledEvent(moved, runner, deps, ctx)]);
}

/** Cancels a scheduled restart, with `runner.restart-cancelled` naming the reason. */
export async function cancelRestart(
  tx: RunnerManagerTransaction,
  plan: PlannedRestart,
  runner: Pick<Runner, 'id' | 'projectId'>,
  reason: string,
  deps: RunnerManagerDeps,
  ctx: RequestContext,
  state: 'cancelled' | 'failed' = 'cancelled',
): Promise<PlannedRestart> {
  const cancelled: PlannedRestart = {
    ...plan,
    state,
    detail: reason,
    updatedAt: deps.clock.now(),
  };
  await tx.restarts.save(cancelled);
  await tx.appendEvents([
    envelope(deps, ctx, runner.id, {
      type: 'runner.restart-cancelled',
      data: {
        runnerId: runner.id,
        projectId: runner.projectId,
        restartId: plan.id,
        reason,
      },
    }),
  ]);
  logger.log(`runner ${runner.id}: restart ${plan.id} ${state}: ${reason}`);
  return cancelled;
}

function scheduledEvent(
  plan: PlannedRestart,
  runner: Runner,
  deps: RunnerManagerDeps,
  ctx: RequestContext,
): EventEnvelope {
  return envelope(deps, ctx, runner.id, {
    type: 'runner.restart-scheduled',
    data: {
      runnerId: runner.id,
      projectId: runner.projectId,
      restartId: plan.id,
      attempt: plan.attempt,
      maxRestarts: runner.maxRestarts,
      restartAt: plan.restartAt.toISOString(),
      reason: plan.reason,
      resumeSessionId: plan.resumeSessionId,
    },
  });
}

type RestartEvent = typeof runnerRestartScheduledV1 | typeof runnerRestartCancelledV1;

function envelope<T extends RestartEvent['type']>(
  deps: RunnerManagerDeps,
  ctx: RequestContext,
  subject: string,
  event: {
    readonly type: T;
    readonly data: z.input<Extract<RestartEvent, { type: T }>['data']>;
  },
): EventEnvelope {
  return buildEnvelope<RestartEvent>(
    {
      type: event.type,
      version: 1,
      source: RUNNER_MANAGER_SERVICE,
      subject,
      correlationId: ctx.correlationId,
      data: event.data,
    },
    { clock: deps.clock, ids: deps.ids, signingKey: deps.signingKey },
  );
}

/**
 * `runners.stop` of an ended runner whose restart is still scheduled: cancels the restart (the
 * chain stops there) and answers the runner; `null` when there is nothing to cancel (the caller
 * then answers as for any ended runner).
 */
export async function cancelScheduledRestartOf(
  runnerId: string,
  deps: RunnerManagerDeps,
  ctx: RequestContext,
): Promise<RunnerReply | null> {
  return deps.store.transaction(async (tx) => {
    const runner = await tx.runners.findById(runnerId);
    if (runner === null || !isTerminal(runner.state) || runner.restartPolicy === 'no') return null;
    await tx.lockProject(runner.projectId);
    const plan = await tx.restarts.findByRunner(runner.id, { lock: true });
    if (plan === null || plan.state !== 'scheduled') return null;
    const cancelled = await cancelRestart(tx, plan, runner, 'cancelled by a user', deps, ctx);
    const project = await tx.projects.findById(runner.projectId);
    return toRunnerReply(runner, project ?? { id: runner.projectId, name: '(unknown)' }, cancelled);
  });
}
