import { Logger } from '@nestjs/common';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import {
  type Project,
  type Runner,
  type RunnerWorktree,
  runnerWorktreeOf,
  type Worktree,
  type WorktreeChoice,
  worktreeLaunchRefused,
  worktreeNotFound,
} from '@stratavore/runner-manager-domain';

import { describeGitFailure } from './git-worktrees';
import { type PendingLaunch, type RunnerManagerDeps } from './runner-lifecycle';
import { WorktreeHostError } from './worktree-host.port';

const logger = new Logger('RunnerWorktrees');

/**
 * Refuses a `--worktree` launch in `project` before anything is reserved or inserted, naming the
 * `worktree` field: the launcher makes no worktrees, or the project's path is not in a git
 * repository with a commit.
 */
export async function checkWorktreeLaunch(
  deps: RunnerManagerDeps,
  project: Project,
): Promise<void> {
  const host = deps.launcher.worktrees;
  if (host === undefined) {
    throw worktreeLaunchRefused(
      `this runner-manager's ${deps.launcher.kind} launcher cannot make git worktrees (set WORKTREE_DIR)`,
    );
  }
  try {
    await host.inspect(project.path);
  } catch (error) {
    if (!(error instanceof WorktreeHostError)) throw error;
    throw worktreeLaunchRefused(
      `expected project ${project.name}'s path to be in a git repository with a commit: ${error.message}`,
    );
  }
}

/** The worktree of a launch, as decided under the project lock. */
export interface LaunchWorktree {
  /** What a queued launch keeps. */
  readonly choice: WorktreeChoice | null;
  /** An existing worktree the runner works in from its insert. */
  readonly existing: RunnerWorktree | null;
  /** A worktree is to be made for the runner before its agent starts. */
  readonly createNew: boolean;
}

export const NO_WORKTREE: LaunchWorktree = Object.freeze({
  choice: null,
  existing: null,
  createNew: false,
});

/**
 * Resolves a launch's worktree in its transaction: a new one (`--worktree`), or the existing one
 * of `existingOf` (a restart, a resume), refused with WorktreeNotFound when it was removed.
 */
export async function resolveLaunchWorktree(
  tx: RunnerManagerTransaction,
  wantsNew: boolean,
  existingOf: string | undefined,
): Promise<LaunchWorktree> {
  if (existingOf !== undefined) {
    const worktree = await tx.worktrees.findByRunner(existingOf);
    if (worktree === null || worktree.removedAt !== null) {
      throw worktreeNotFound(existingOf, worktree ?? undefined);
    }
    return {
      choice: { kind: 'existing', runnerId: existingOf },
      existing: runnerWorktreeOf(worktree),
      createNew: false,
    };
  }
  return wantsNew ? { choice: { kind: 'new' }, existing: null, createNew: true } : NO_WORKTREE;
}

/**
 * The worktree of a queued launch being admitted. An existing one removed meanwhile is left
 * out: the runner then fails to start in its missing directory, saying so.
 */
export async function admittedWorktree(
  tx: RunnerManagerTransaction,
  choice: WorktreeChoice | null | undefined,
): Promise<LaunchWorktree> {
  if (!choice) return NO_WORKTREE;
  if (choice.kind === 'new') return { choice, existing: null, createNew: true };
  const worktree = await tx.worktrees.findByRunner(choice.runnerId);
  if (worktree === null || worktree.removedAt !== null) return NO_WORKTREE;
  return { choice, existing: runnerWorktreeOf(worktree), createNew: false };
}

export type MadeWorktree =
  | { readonly kind: 'ready'; readonly launch: PendingLaunch }
  | { readonly kind: 'failed'; readonly detail: string };

/**
 * Makes the worktree of a pending runner on the launcher's machine and records it (the worktree
 * row, and the runner's `worktree` and `cwd`) before its agent is started there. A worktree that
 * could not be recorded is taken away again.
 */
export async function makeRunnerWorktree(
  deps: RunnerManagerDeps,
  launch: PendingLaunch,
): Promise<MadeWorktree> {
  const host = deps.launcher.worktrees;
  if (host === undefined) {
    return {
      kind: 'failed',
      detail: `the ${deps.launcher.kind} launcher cannot make git worktrees`,
    };
  }
  const { runner, project } = launch;
  let worktree: Worktree;
  let cwd: string;
  try {
    const created = await host.create({
      projectPath: project.path,
      projectName: project.name,
      runnerId: runner.id,
    });
    cwd = created.cwd;
    worktree = {
      runnerId: runner.id,
      projectId: project.id,
      host: host.host,
      repository: created.repository,
      path: created.path,
      branch: created.branch,
      baseCommit: created.baseCommit,
      createdAt: deps.clock.now(),
      removedAt: null,
    };
  } catch (error) {
    return {
      kind: 'failed',
      detail: `could not make its git worktree: ${describeGitFailure(error)}`,
    };
  }
  try {
    const recorded = await deps.store.transaction(async (tx): Promise<Runner> => {
      await tx.lockProject(runner.projectId);
      const current = (await tx.runners.findById(runner.id, { lock: true })) ?? runner;
      await tx.worktrees.insert(worktree);
      const updated: Runner = { ...current, cwd, worktree: runnerWorktreeOf(worktree) };
      await tx.runners.save(updated);
      return updated;
    });
    logger.log(`runner ${runner.id}: worktree ${worktree.path} on ${worktree.branch}`);
    return { kind: 'ready', launch: { ...launch, runner: recorded, createWorktree: false } };
  } catch (error) {
    await host.remove(worktree, { force: true }).catch((cleanup: unknown) => {
      logger.warn(`runner ${runner.id}: could not take its worktree away: ${String(cleanup)}`);
    });
    throw error;
  }
}
