import { Logger } from '@nestjs/common';
import {
  buildEnvelope,
  type EventEnvelope,
  type runnerEvents,
  type SessionActivity,
} from '@stratavore/contracts';
import { type Clock, type IdGenerator } from '@stratavore/core';
import {
  type RunnerManagerTransaction,
  type RunnerManagerUnitOfWork,
} from '@stratavore/runner-manager-data-access';
import {
  assertTransition,
  budgetUnavailable,
  isActive,
  isTerminal,
  type LaunchEstimate,
  launchEstimate,
  type Project,
  type QueuedLaunch,
  type RestartBackoff,
  type Runner,
  type RunnerFailureReason,
  type RunnerMode,
  type RunnerOrigin,
  type RunnerState,
  type RunnerWorktree,
  waitedMs,
  withMaxBudgetUsd,
  ZERO_TOKENS,
} from '@stratavore/runner-manager-domain';
import { type z } from 'zod';

import { type BudgetGate } from './budget-gate.port';
import { type LaunchSpec, type RunnerLauncher } from './runner-launcher.port';
import { launchedOrigin, originOf, planRestart } from './runner-restarts';
import { hashRunnerToken, type RunnerTokenSource } from './runner-token';
import { admittedWorktree, makeRunnerWorktree } from './runner-worktrees';
import { type SessionLookup } from './session-lookup.port';

/** Who asked, for the events' correlation id. */
export interface RequestContext {
  readonly correlationId: string;
}

/** Everything the use cases share. */
export interface RunnerManagerDeps {
  readonly store: RunnerManagerUnitOfWork;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly tokens: RunnerTokenSource;
  readonly launcher: RunnerLauncher;
  /** HMAC key of event envelopes. */
  readonly signingKey: string;
  /**
   * budget-service, to reserve each launch's estimate before it starts (`BUDGETS=enforce`);
   * absent: budgets are not enforced by runner-manager (`BUDGETS=off`).
   */
  readonly budgets?: BudgetGate;
  /** The estimate of a launch whose project sets none (`BUDGET_DEFAULT_ESTIMATE_*`; default 0). */
  readonly defaultEstimate?: LaunchEstimate;
  /** session-store, for `runners.resume`; absent: resuming answers SessionStoreUnavailable. */
  readonly sessions?: SessionLookup;
  /** Backoff between restarts (restart policy `on-failure`); default 5 s doubling to 5 min. */
  readonly restartBackoff?: RestartBackoff;
  /** Jitter of the restart backoff, in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

export const EVENT_SOURCE = 'runner-manager';

/** What may change along with a transition. */
export interface TransitionPatch {
  readonly pid?: number | null;
  readonly agentPid?: number | null;
  readonly host?: string | null;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly failureReason?: RunnerFailureReason;
  /** Free text for `runner.failed`. */
  readonly detail?: string;
  readonly sessionId?: string | null;
  /** For `runner.stopping`. */
  readonly requestedBy?: 'user' | 'budget' | 'system';
  readonly reason?: string;
  /**
   * The session activity that moves a live runner (`running` <-> `waiting` / `idle`), kept on
   * the runner; its events (`runner.waiting`, `runner.idle`, `runner.resumed-work`) carry it.
   */
  readonly activity?: SessionActivity;
}

/** A runner inserted in `pending` whose agent is to be started after commit. */
export interface PendingLaunch extends LaunchSpec {
  /**
   * The estimate to reserve before its agent starts: set for a queued launch admitted into a
   * freed slot (queued launches reserve when admitted); `null` when the launch reserved before
   * its insert, or budgets are off.
   */
  readonly reserve: LaunchEstimate | null;
  /** A git worktree is to be made for it before its agent starts (`--worktree`). */
  readonly createWorktree?: boolean;
}

/** A launch's reservation granted before its runner is inserted. */
export interface GrantedBudget {
  /** The runner id the reservation was made for. */
  readonly runnerId: string;
  readonly estimate: LaunchEstimate;
  /** USD left in the tightest hard budget, for Claude's `--max-budget-usd`; `null`: no limit. */
  readonly leftUsd: number | null;
}

/**
 * The state changes every use case shares, each inside the caller's transaction: insert a
 * pending runner (+ `runner.launched`), move a runner (+ `runner.<state>`), and admit queued
 * launches into freed slots. Starting agents happens after commit ({@link startAgents}).
 */
export class RunnerLifecycle {
  private readonly logger = new Logger('RunnerLifecycle');

  constructor(private readonly deps: RunnerManagerDeps) {}

  /**
   * Inserts a runner in `pending` and its `runner.launched` event. Caller holds the project lock.
   * With `budget` (a reservation granted for this launch) the runner takes the reserved id, and
   * a headless Claude command gets `--max-budget-usd`. With `worktree` it works in that existing
   * worktree; with `newWorktree` one is made for it before its agent starts.
   */
  async insertPending(
    tx: RunnerManagerTransaction,
    project: Project,
    spec: {
      readonly command: readonly string[];
      readonly prompt: string | null;
      readonly mode: RunnerMode;
      readonly worktree?: RunnerWorktree | null;
      readonly newWorktree?: boolean;
      /** Started by the user's CLI in a terminal (`runners.attach`), not by the launcher. */
      readonly attached?: boolean;
    } & Partial<RunnerOrigin>,
    ctx: RequestContext,
    budget?: GrantedBudget,
  ): Promise<PendingLaunch> {
    const token = this.deps.tokens.next();
    const command =
      budget === undefined
        ? spec.command
        : withMaxBudgetUsd(spec.command, spec.mode, budget.leftUsd);
    const runner: Runner = {
      id: budget?.runnerId ?? this.deps.ids.uuid(),
      projectId: project.id,
      state: 'pending',
      desiredState: 'run',
      mode: spec.mode,
      command: [...command],
      prompt: spec.prompt,
      tokenHash: hashRunnerToken(token),
      pid: null,
      agentPid: null,
      host: null,
      exitCode: null,
      signal: null,
      failureReason: null,
      sessionId: null,
      createdAt: this.deps.clock.now(),
      startedAt: null,
      endedAt: null,
      lastHeartbeatAt: null,
      lastHeartbeatSeq: null,
      cpuPercent: null,
      memoryBytes: null,
      tokens: ZERO_TOKENS,
      ...originOf(spec, project),
      sessionResult: null,
      worktree: spec.worktree ?? null,
      attached: spec.attached === true,
      activity: null,
    };
    await tx.runners.insert(runner);
    await tx.appendEvents([
      this.envelope(runner, ctx, {
        type: 'runner.launched',
        data: {
          runnerId: runner.id,
          projectId: project.id,
          agentCommand: runner.command.join(' '),
          ...(runner.prompt === null ? {} : { prompt: runner.prompt }),
          mode: runner.mode,
          launcher: runner.attached === true ? 'attached' : this.deps.launcher.kind,
          ...(budget === undefined ? {} : { reservedTokens: budget.estimate.tokens }),
          tokenHash: runner.tokenHash,
          ...(this.deps.launcher.heartbeatIntervalMs === undefined
            ? {}
            : { heartbeatIntervalMs: this.deps.launcher.heartbeatIntervalMs }),
          ...launchedOrigin(runner),
        },
      }),
    ]);
    return { runner, project, token, reserve: null, createWorktree: spec.newWorktree === true };
  }

  /**
   * Moves `runner` to `to` (refused by the state machine with IllegalTransition), saves it and
   * writes `runner.<to>`. When the runner ends, admits the project's oldest queued launches into
   * the freed slot in the same transaction. Caller holds the project lock and the row lock.
   */
  async transition(
    tx: RunnerManagerTransaction,
    runner: Runner,
    to: RunnerState,
    patch: TransitionPatch,
    ctx: RequestContext,
  ): Promise<{ runner: Runner; admitted: PendingLaunch[] }> {
    assertTransition(runner.state, to, runner.id);
    const now = this.deps.clock.now();
    const next: Runner = {
      ...runner,
      state: to,
      ...(patch.pid === undefined ? {} : { pid: patch.pid }),
      ...(patch.agentPid === undefined ? {} : { agentPid: patch.agentPid }),
      ...(patch.host === undefined ? {} : { host: patch.host }),
      ...(patch.exitCode === undefined ? {} : { exitCode: patch.exitCode }),
      ...(patch.signal === undefined ? {} : { signal: patch.signal }),
      ...(patch.sessionId === undefined ? {} : { sessionId: patch.sessionId }),
      ...(patch.activity === undefined ? {} : { activity: patch.activity }),
      ...(to === 'failed' ? { failureReason: patch.failureReason ?? 'agent_crashed' } : {}),
      ...(to === 'starting' ? { startedAt: now } : {}),
      ...(isTerminal(to) ? { endedAt: now } : {}),
    };
    await tx.runners.save(next);
    await tx.appendEvents([this.transitionEvent(next, patch, ctx, runner)]);
    if (isTerminal(to)) await planRestart(tx, next, this.deps, ctx);
    const admitted = isTerminal(to) ? await this.admitQueued(tx, runner.projectId, ctx) : [];
    return { runner: next, admitted };
  }

  /**
   * Admits the project's queued launches, oldest first, while it has free slots. Caller holds
   * the project lock, so the count cannot change under it.
   */
  async admitQueued(
    tx: RunnerManagerTransaction,
    projectId: string,
    ctx: RequestContext,
  ): Promise<PendingLaunch[]> {
    const project = await tx.projects.findById(projectId);
    if (!project || project.archivedAt !== null) return [];
    const admitted: PendingLaunch[] = [];
    let active = (await tx.runners.activeOf(projectId)).length;
    let head: QueuedLaunch | null;
    while (active < project.maxRunners && (head = await tx.queue.oldest(projectId)) !== null) {
      await tx.queue.remove(head.id);
      const worktree = await admittedWorktree(tx, head.worktree);
      const launch = await this.insertPending(
        tx,
        project,
        {
          command: head.command,
          prompt: head.prompt,
          mode: head.mode,
          cwd: head.cwd,
          resumedFrom: head.resumedFrom,
          restartPolicy: head.restartPolicy,
          maxRestarts: head.maxRestarts,
          restartOf: head.restartOf,
          restarts: head.restarts,
          worktree: worktree.existing,
          newWorktree: worktree.createNew,
        },
        ctx,
      );
      admitted.push(
        this.deps.budgets === undefined
          ? launch
          : { ...launch, reserve: launchEstimate(head, project, this.deps.defaultEstimate) },
      );
      active++;
    }
    return admitted;
  }

  /**
   * After commit: starts each pending runner's agent and records `starting` with the agent's
   * pid, or `failed` (`launch_failed`) when the launcher throws. Returns the runners as recorded.
   */
  async startAgents(launches: readonly PendingLaunch[], ctx: RequestContext): Promise<Runner[]> {
    const started: Runner[] = [];
    for (const launch of launches) started.push(await this.startAgent(launch, ctx));
    return started;
  }

  private async startAgent(pending: PendingLaunch, ctx: RequestContext): Promise<Runner> {
    const reserved = await this.reserveAdmitted(pending, ctx);
    if (reserved.kind === 'failed') return reserved.runner;
    let launch = reserved.launch;
    if (launch.createWorktree === true) {
      // Made on the launcher's machine before the agent starts there, which then runs in it.
      const made = await makeRunnerWorktree(this.deps, launch);
      if (made.kind === 'failed') {
        this.logger.warn(`runner ${launch.runner.id}: launch failed: ${made.detail}`);
        return this.failPending(
          launch,
          { failureReason: 'launch_failed', detail: made.detail },
          ctx,
        );
      }
      launch = made.launch;
    }
    let agent: { pid: number; host: string };
    try {
      agent = await this.deps.launcher.launch(launch);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.logger.warn(`runner ${launch.runner.id}: launch failed: ${detail}`);
      return this.failPending(launch, { failureReason: 'launch_failed', detail }, ctx);
    }
    const outcome = await this.deps.store.transaction(async (tx) => {
      await tx.lockProject(launch.runner.projectId);
      const current = await tx.runners.findById(launch.runner.id, { lock: true });
      if (!current) return { runner: launch.runner, orphan: true };
      if (current.state === 'pending') {
        const moved = await this.transition(
          tx,
          current,
          'starting',
          { agentPid: agent.pid, host: agent.host },
          ctx,
        );
        return { runner: moved.runner, orphan: false };
      }
      // The agent's first heartbeat already moved it on, or it was stopped meanwhile.
      const updated: Runner = { ...current, agentPid: agent.pid, host: agent.host };
      await tx.runners.save(updated);
      return { runner: updated, orphan: isTerminal(current.state) };
    });
    if (outcome.orphan) {
      await this.deps.launcher.signal(outcome.runner, 'SIGTERM').catch((error: unknown) => {
        this.logger.warn(
          `runner ${launch.runner.id}: could not signal its agent: ${String(error)}`,
        );
      });
    }
    return outcome.runner;
  }

  /**
   * A queued launch admitted into a freed slot reserves its estimate now, before its agent
   * starts. Refused: the runner fails (`budget_exceeded`) with budget-service's message;
   * budget-service unreachable: it fails (`launch_failed`) saying so. Either way the slot goes to
   * the next queued launch. Granted: a headless Claude command gets `--max-budget-usd`.
   */
  private async reserveAdmitted(
    launch: PendingLaunch,
    ctx: RequestContext,
  ): Promise<{ kind: 'ready'; launch: PendingLaunch } | { kind: 'failed'; runner: Runner }> {
    const gate = this.deps.budgets;
    if (launch.reserve === null || gate === undefined) return { kind: 'ready', launch };
    const outcome = await gate.reserve(
      {
        reservationId: this.deps.ids.uuid(),
        runnerId: launch.runner.id,
        project: launch.project,
        estimate: launch.reserve,
      },
      ctx,
    );
    if (outcome.status !== 'granted') {
      const patch: TransitionPatch =
        outcome.status === 'refused'
          ? { failureReason: 'budget_exceeded', detail: outcome.refusal.message }
          : {
              failureReason: 'launch_failed',
              detail: budgetUnavailable(launch.project, outcome.reason).message,
            };
      this.logger.warn(`runner ${launch.runner.id}: not started: ${patch.detail ?? ''}`);
      return { kind: 'failed', runner: await this.failPending(launch, patch, ctx) };
    }
    const command = withMaxBudgetUsd(launch.runner.command, launch.runner.mode, outcome.leftUsd);
    if (command === launch.runner.command) {
      return { kind: 'ready', launch: { ...launch, reserve: null } };
    }
    const runner = await this.deps.store.transaction(async (tx) => {
      await tx.lockProject(launch.runner.projectId);
      const current = await tx.runners.findById(launch.runner.id, { lock: true });
      if (!current || current.state !== 'pending') return current ?? launch.runner;
      const updated: Runner = { ...current, command: [...command] };
      await tx.runners.save(updated);
      return updated;
    });
    return { kind: 'ready', launch: { ...launch, runner, reserve: null } };
  }

  /** Fails a runner that never started; its slot goes to the next queued launch. */
  private async failPending(
    launch: PendingLaunch,
    patch: TransitionPatch,
    ctx: RequestContext,
  ): Promise<Runner> {
    const { runner, admitted } = await this.deps.store.transaction(async (tx) => {
      await tx.lockProject(launch.runner.projectId);
      const current = await tx.runners.findById(launch.runner.id, { lock: true });
      if (!current || !isActive(current.state)) return { runner: current, admitted: [] };
      return this.transition(tx, current, 'failed', patch, ctx);
    });
    await this.startAgents(admitted, ctx);
    return runner ?? launch.runner;
  }

  private transitionEvent(
    runner: Runner,
    patch: TransitionPatch,
    ctx: RequestContext,
    previous: Runner,
  ): EventEnvelope {
    const ref = { runnerId: runner.id, projectId: runner.projectId };
    // Only a hook's activity moves a runner into or out of waiting and idle.
    const activity = patch.activity ?? null;
    const session = runner.sessionId === null ? {} : { sessionId: runner.sessionId };
    switch (runner.state) {
      case 'pending':
        throw new Error('pending is entered by insertPending only');
      case 'starting':
        return this.envelope(runner, ctx, {
          type: 'runner.starting',
          data: { ...ref, ...(runner.agentPid === null ? {} : { pid: runner.agentPid }) },
        });
      case 'running':
        if ((previous.state === 'waiting' || previous.state === 'idle') && activity !== null) {
          return this.envelope(runner, ctx, {
            type: 'runner.resumed-work',
            data: {
              ...ref,
              ...session,
              reason: activity.reason,
              since: activity.since,
              from: previous.state,
              waitedMs: waitedMs(previous.activity, activity),
            },
          });
        }
        return this.envelope(runner, ctx, {
          type: 'runner.running',
          data: {
            ...ref,
            ...(runner.pid === null ? {} : { pid: runner.pid }),
            ...(runner.sessionId === null ? {} : { sessionId: runner.sessionId }),
          },
        });
      case 'waiting':
      case 'idle': {
        if (activity === null) {
          throw new Error(`${runner.state} is entered with the session activity only`);
        }
        const data = { ...ref, ...session, reason: activity.reason, since: activity.since };
        return runner.state === 'waiting'
          ? this.envelope(runner, ctx, {
              type: 'runner.waiting',
              data: { ...data, message: activity.message },
            })
          : this.envelope(runner, ctx, { type: 'runner.idle', data });
      }
      case 'stopping':
        return this.envelope(runner, ctx, {
          type: 'runner.stopping',
          data: {
            ...ref,
            requestedBy: patch.requestedBy ?? 'user',
            ...(patch.reason === undefined ? {} : { reason: patch.reason }),
          },
        });
      case 'stopped':
        return this.envelope(runner, ctx, {
          type: 'runner.stopped',
          data: { ...ref, exitCode: runner.exitCode },
        });
      case 'completed':
        return this.envelope(runner, ctx, {
          type: 'runner.completed',
          data: {
            ...ref,
            exitCode: runner.exitCode ?? 0,
            ...(runner.sessionId === null ? {} : { sessionId: runner.sessionId }),
          },
        });
      case 'failed':
        return this.envelope(runner, ctx, {
          type: 'runner.failed',
          data: {
            ...ref,
            reason: runner.failureReason ?? 'agent_crashed',
            ...(patch.detail === undefined ? {} : { detail: patch.detail }),
            exitCode: runner.exitCode,
          },
        });
    }
  }

  private envelope<T extends RunnerEventType>(
    runner: Runner,
    ctx: RequestContext,
    event: { readonly type: T; readonly data: RunnerEventData<T> },
  ): EventEnvelope {
    return buildEnvelope<RunnerEvent>(
      {
        type: event.type,
        version: 1,
        source: EVENT_SOURCE,
        subject: runner.id,
        correlationId: ctx.correlationId,
        data: event.data,
      },
      { clock: this.deps.clock, ids: this.deps.ids, signingKey: this.deps.signingKey },
    );
  }
}

type RunnerEvent = (typeof runnerEvents)[number];
type RunnerEventType = RunnerEvent['type'];
type RunnerEventData<T extends RunnerEventType> = z.input<
  Extract<RunnerEvent, { type: T }>['data']
>;
