import {
  type RunnerWorktreeReply,
  type WorktreeReply,
  type WorktreeStatus,
} from '@stratavore/contracts';

import { type Project } from './project';
import { type SlotHolder } from './runner';
import { RunnerErrorCode, RunnerException } from './runner.exception';
import { type RunnerState } from './runner-state';

export { type WorktreeStatus };

/** Branches of runner worktrees are `stratavore/<runner id>`. */
export const WORKTREE_BRANCH_PREFIX = 'stratavore/';

/** The branch of the worktree made for `runnerId`. */
export function worktreeBranchOf(runnerId: string): string {
  return `${WORKTREE_BRANCH_PREFIX}${runnerId}`;
}

/**
 * A git worktree made for a runner (`runner.worktrees`, docs/worktrees.md). It outlives the
 * runner until removed; `runnerId` is its id.
 */
export interface Worktree {
  /** The runner it was made for; its id names the branch. */
  readonly runnerId: string;
  readonly projectId: string;
  /** The machine it is on: the launcher's host. */
  readonly host: string;
  /** The top directory of the repository it belongs to, where git is run to manage it. */
  readonly repository: string;
  /** The worktree's top directory. */
  readonly path: string;
  readonly branch: string;
  /** The project's HEAD when it was made. */
  readonly baseCommit: string;
  readonly createdAt: Date;
  readonly removedAt: Date | null;
}

/** The worktree a runner works in, as kept on the runner. */
export type RunnerWorktree = RunnerWorktreeReply;

/** Which worktree a launch works in: one made for it, or an existing one (restart, resume). */
export type WorktreeChoice =
  { readonly kind: 'new' } | { readonly kind: 'existing'; readonly runnerId: string };

export function runnerWorktreeOf(worktree: Worktree): RunnerWorktree {
  return {
    runnerId: worktree.runnerId,
    path: worktree.path,
    branch: worktree.branch,
    baseCommit: worktree.baseCommit,
  };
}

/** A worktree launch refused before anything started, naming the `worktree` field. */
export function worktreeLaunchRefused(message: string): RunnerException {
  return RunnerException.validationFailed([{ field: 'worktree', message }]);
}

/** The runner has no worktree (`removedAt`: it had one, removed then). */
export function worktreeNotFound(runnerId: string, removed?: Worktree): RunnerException {
  if (removed?.removedAt) {
    return new RunnerException(
      RunnerErrorCode.WorktreeNotFound,
      `the worktree of runner ${runnerId} (branch ${removed.branch}, ${removed.path}) was removed at ${removed.removedAt.toISOString()}`,
      { runner: runnerId, removedAt: removed.removedAt.toISOString() },
    );
  }
  return new RunnerException(
    RunnerErrorCode.WorktreeNotFound,
    `runner ${runnerId} has no worktree (it was not launched with --worktree)`,
    { runner: runnerId },
  );
}

export function worktreeInUse(worktree: Worktree, holders: readonly SlotHolder[]): RunnerException {
  const held = holders.map((holder) => `${holder.id} (${holder.state})`).join(', ');
  return new RunnerException(
    RunnerErrorCode.WorktreeInUse,
    `the worktree of runner ${worktree.runnerId} is in use by ${held}; stop the runner first (stratavore kill <runner-id>)`,
    { runner: worktree.runnerId, holders: holders.map((h) => ({ id: h.id, state: h.state })) },
  );
}

/** Removing would lose uncommitted changes or commits that the project's HEAD does not have. */
export function worktreeHasChanges(worktree: Worktree, status: WorktreeStatus): RunnerException {
  const problems: string[] = [];
  if (status.changes > 0) {
    problems.push(
      `${status.changes} uncommitted change${status.changes === 1 ? '' : 's'} in ${worktree.path}`,
    );
  }
  if (status.unmerged > 0) {
    problems.push(
      `${status.unmerged} commit${status.unmerged === 1 ? '' : 's'} on ${worktree.branch} not merged into the project's HEAD`,
    );
  }
  return new RunnerException(
    RunnerErrorCode.WorktreeHasChanges,
    `the worktree of runner ${worktree.runnerId} has ${problems.join(' and ')}; commit or merge them first, or remove it with --force`,
    {
      runner: worktree.runnerId,
      branch: worktree.branch,
      changes: status.changes,
      unmerged: status.unmerged,
    },
  );
}

/** The worktree cannot be acted on here (`reason` is a sentence). */
export function worktreeUnavailable(worktree: Worktree, reason: string): RunnerException {
  return new RunnerException(
    RunnerErrorCode.WorktreeUnavailable,
    `the worktree of runner ${worktree.runnerId} cannot be removed: ${reason}`,
    { runner: worktree.runnerId, reason },
  );
}

/** A worktree with what is known of it now, for the API. */
export interface WorktreeView {
  readonly worktree: Worktree;
  readonly project: Pick<Project, 'id' | 'name'>;
  readonly runnerState: RunnerState;
  readonly activeRunners: readonly SlotHolder[];
  readonly status: WorktreeStatus | null;
  readonly statusNote: string | null;
}

export function toWorktreeReply(view: WorktreeView): WorktreeReply {
  const { worktree } = view;
  return {
    runnerId: worktree.runnerId,
    project: { id: view.project.id, name: view.project.name },
    runnerState: view.runnerState,
    activeRunners: view.activeRunners.map((holder) => ({ id: holder.id, state: holder.state })),
    path: worktree.path,
    branch: worktree.branch,
    baseCommit: worktree.baseCommit,
    repository: worktree.repository,
    host: worktree.host,
    createdAt: worktree.createdAt.toISOString(),
    removedAt: worktree.removedAt?.toISOString() ?? null,
    status: view.status === null ? null : { ...view.status },
    statusNote: view.statusNote,
  };
}
