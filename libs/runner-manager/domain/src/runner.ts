import {
  type desiredStateSchema,
  type PlannedRestartReply,
  type QueuedLaunchReply,
  type runnerFailureReasonSchema,
  type RunnerReply,
  type RunnerTokens,
  type SessionActivity,
  type SessionResult,
} from '@stratavore/contracts';
import { type z } from 'zod';

import { type Project } from './project';
import { RunnerErrorCode, RunnerException } from './runner.exception';
import { type PlannedRestart, type RunnerOrigin } from './runner-restart';
import { type RunnerState } from './runner-state';
import { type RunnerWorktree, type WorktreeChoice } from './worktree';

export type DesiredState = z.infer<typeof desiredStateSchema>;
export type RunnerFailureReason = z.infer<typeof runnerFailureReasonSchema>;
export type RunnerMode = 'headless' | 'interactive';

export const ZERO_TOKENS: RunnerTokens = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
});

export interface Runner {
  readonly id: string;
  readonly projectId: string;
  readonly state: RunnerState;
  readonly desiredState: DesiredState;
  readonly mode: RunnerMode;
  readonly command: readonly string[];
  readonly prompt: string | null;
  /** sha256 (hex) of the runner token; the token itself is never stored. */
  readonly tokenHash: string;
  /** The agent's child process. */
  readonly pid: number | null;
  /** The `stratavore-agent` process. */
  readonly agentPid: number | null;
  readonly host: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly failureReason: RunnerFailureReason | null;
  readonly sessionId: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly endedAt: Date | null;
  readonly lastHeartbeatAt: Date | null;
  readonly lastHeartbeatSeq: number | null;
  readonly cpuPercent: number | null;
  readonly memoryBytes: number | null;
  readonly tokens: RunnerTokens;
  /**
   * Where it runs, how it was launched and its restart policy (`cwd` is `null` only for runners
   * recorded before it was kept: the project's path).
   */
  readonly cwd: RunnerOrigin['cwd'];
  readonly resumedFrom: RunnerOrigin['resumedFrom'];
  readonly restartPolicy: RunnerOrigin['restartPolicy'];
  readonly maxRestarts: RunnerOrigin['maxRestarts'];
  readonly restartOf: RunnerOrigin['restartOf'];
  readonly restarts: RunnerOrigin['restarts'];
  /** How its Claude session ended, from `session.reported` (restart decisions read it). */
  readonly sessionResult: SessionResult | null;
  /**
   * The git worktree it works in (docs/worktrees.md); `null` or absent: the project's own tree.
   * A runner launched with a new worktree has it once its launcher made it.
   */
  readonly worktree?: RunnerWorktree | null;
  /**
   * Started by the user's CLI in their terminal (`stratavore run`), not by a launcher:
   * runner-manager never signals or reaps it. Absent: false.
   */
  readonly attached?: boolean;
  /**
   * What its Claude session last did, from the agent's hooks through `session.reported`
   * (`waiting` and `idle` states); `null` or absent: no hook heard.
   */
  readonly activity?: SessionActivity | null;
}

/** A launch waiting for a free slot of its project (FIFO by `position`). */
export interface QueuedLaunch {
  readonly id: string;
  readonly projectId: string;
  readonly position: number;
  readonly mode: RunnerMode;
  readonly command: readonly string[];
  readonly prompt: string | null;
  readonly createdAt: Date;
  /** The launch's own estimate overrides; `null`: the project's default when admitted. */
  readonly estimateTokens: number | null;
  readonly estimateUsd: number | null;
  /** Where it will run, how and with which restart policy, as for a runner. */
  readonly cwd: RunnerOrigin['cwd'];
  readonly resumedFrom: RunnerOrigin['resumedFrom'];
  readonly restartPolicy: RunnerOrigin['restartPolicy'];
  readonly maxRestarts: RunnerOrigin['maxRestarts'];
  readonly restartOf: RunnerOrigin['restartOf'];
  readonly restarts: RunnerOrigin['restarts'];
  /** The worktree it will work in once admitted; `null` or absent: the project's own tree. */
  readonly worktree?: WorktreeChoice | null;
}

/** A runner holding a quota slot, for the QuotaExceeded message. */
export interface SlotHolder {
  readonly id: string;
  readonly state: RunnerState;
}

/** "project p allows 2 concurrent runners; held by r1 (running), r2 (starting)" */
export function quotaExceeded(
  project: Pick<Project, 'id' | 'name' | 'maxRunners'>,
  holders: readonly SlotHolder[],
): RunnerException {
  const held = holders.map((holder) => `${holder.id} (${holder.state})`).join(', ');
  const plural = project.maxRunners === 1 ? 'runner' : 'runners';
  return new RunnerException(
    RunnerErrorCode.QuotaExceeded,
    `project ${project.name} allows ${project.maxRunners} concurrent ${plural}; held by ${held}`,
    {
      project: project.name,
      projectId: project.id,
      maxRunners: project.maxRunners,
      holders: holders.map((holder) => ({ id: holder.id, state: holder.state })),
    },
  );
}

/** Refusal to archive a project whose runners still hold slots. */
export function projectHasActiveRunners(
  project: Pick<Project, 'name'>,
  holders: readonly SlotHolder[],
): RunnerException {
  const held = holders.map((holder) => `${holder.id} (${holder.state})`).join(', ');
  return new RunnerException(
    RunnerErrorCode.ProjectHasActiveRunners,
    `project ${project.name} still has ${holders.length} active runner(s): ${held}; stop them first`,
    { project: project.name, holders: holders.map((h) => ({ id: h.id, state: h.state })) },
  );
}

export function runnerAlreadyEnded(runner: Pick<Runner, 'id' | 'state'>): RunnerException {
  return new RunnerException(
    RunnerErrorCode.RunnerAlreadyEnded,
    `runner ${runner.id} already ended (${runner.state})`,
    { runner: runner.id, state: runner.state },
  );
}

/**
 * What a runner's reply shows of it: everything but its token hash, the sequence number of its
 * last heartbeat and its session's result (read for the API without them).
 */
export type RunnerReplyFields = Omit<Runner, 'tokenHash' | 'lastHeartbeatSeq' | 'sessionResult'>;

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

/** The runner as the API shows it, with the restart planned after it ended, if any. */
export function toRunnerReply(
  runner: RunnerReplyFields,
  project: Pick<Project, 'id' | 'name'>,
  restart: PlannedRestart | null = null,
): RunnerReply {
  return {
    id: runner.id,
    project: { id: project.id, name: project.name },
    state: runner.state,
    desiredState: runner.desiredState,
    mode: runner.mode,
    command: [...runner.command],
    prompt: runner.prompt,
    pid: runner.pid,
    agentPid: runner.agentPid,
    host: runner.host,
    exitCode: runner.exitCode,
    signal: runner.signal,
    failureReason: runner.failureReason,
    sessionId: runner.sessionId,
    createdAt: runner.createdAt.toISOString(),
    startedAt: iso(runner.startedAt),
    endedAt: iso(runner.endedAt),
    lastHeartbeatAt: iso(runner.lastHeartbeatAt),
    cpuPercent: runner.cpuPercent,
    memoryBytes: runner.memoryBytes,
    tokens: { ...runner.tokens },
    cwd: runner.cwd,
    resumedFrom: runner.resumedFrom,
    restartPolicy: runner.restartPolicy,
    maxRestarts: runner.maxRestarts,
    restartOf: runner.restartOf,
    restarts: runner.restarts,
    restart: restart === null ? null : toPlannedRestartReply(restart),
    worktree: runner.worktree ? { ...runner.worktree } : null,
    attached: runner.attached === true,
    activity: runner.activity ? { ...runner.activity } : null,
  };
}

export function toQueuedLaunchReply(
  entry: QueuedLaunch,
  project: Pick<Project, 'id' | 'name'>,
): QueuedLaunchReply {
  return {
    id: entry.id,
    project: { id: project.id, name: project.name },
    position: entry.position,
    mode: entry.mode,
    command: [...entry.command],
    prompt: entry.prompt,
    createdAt: entry.createdAt.toISOString(),
    estimateTokens: entry.estimateTokens,
    estimateUsd: entry.estimateUsd,
    restartOf: entry.restartOf,
    resumedFrom: entry.resumedFrom,
  };
}

export function toPlannedRestartReply(restart: PlannedRestart): PlannedRestartReply {
  return {
    id: restart.id,
    attempt: restart.attempt,
    at: restart.restartAt.toISOString(),
    reason: restart.reason,
    state: restart.state,
    resumeSessionId: restart.resumeSessionId,
    replacementId: restart.replacementId,
    detail: restart.detail,
  };
}
