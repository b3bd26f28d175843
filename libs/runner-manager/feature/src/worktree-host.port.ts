import { type Worktree, type WorktreeStatus } from '@stratavore/runner-manager-domain';

/** Where a worktree for a launch in some directory comes from. */
export interface RepositoryHead {
  /** The repository's top directory (the directory itself, or a repository above it). */
  readonly repository: string;
  /** The directory relative to `repository` (`''` at the top, else ending with `/`). */
  readonly prefix: string;
  /** The commit HEAD points at. */
  readonly head: string;
}

/** A worktree just made for a runner. */
export interface CreatedWorktree {
  readonly repository: string;
  /** The worktree's top directory (real path, symbolic links resolved). */
  readonly path: string;
  /** Where the runner works: `path` plus the project's prefix in the repository. */
  readonly cwd: string;
  readonly branch: string;
  readonly baseCommit: string;
}

/**
 * The repository or worktree cannot be used, for a reason people can act on (not a repository,
 * no commit yet, git refused); the message is a sentence without the caller's context.
 */
export class WorktreeHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorktreeHostError';
  }
}

/**
 * Git worktrees on the machine that runs the agents (docs/worktrees.md). Implemented by the
 * launcher's host, so a worktree is made where its runner runs.
 */
export interface WorktreeHost {
  /** The machine, as recorded on each worktree made here. */
  readonly host: string;
  /**
   * The repository `dir` is in and its HEAD; rejects with {@link WorktreeHostError} when `dir`
   * is missing, not in a git work tree, or the repository has no commit yet.
   */
  inspect(dir: string): Promise<RepositoryHead>;
  /**
   * `git worktree add -b stratavore/<runnerId> <dir> <HEAD>` in the repository of
   * `projectPath`; concurrent calls for one repository never fail on git's locks.
   */
  create(input: {
    readonly projectPath: string;
    readonly projectName: string;
    readonly runnerId: string;
  }): Promise<CreatedWorktree>;
  /** Whether it still exists, its uncommitted changes and where its branch stands. */
  status(worktree: Worktree): Promise<WorktreeStatus>;
  /** Removes the worktree (also with changes when `force`) and deletes its branch. */
  remove(worktree: Worktree, options: { readonly force: boolean }): Promise<void>;
}
