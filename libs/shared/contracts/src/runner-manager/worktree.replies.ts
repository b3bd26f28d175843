import { z } from 'zod';

import { runnerStateSchema } from './runner-manager.requests';

const timestamp = z.iso.datetime({ offset: true });

/**
 * The git worktree a runner works in (docs/worktrees.md): the one made for it (`--worktree`), or
 * the one of the runner it restarts or whose session it resumes.
 */
export const runnerWorktreeSchema = z.object({
  /** The runner the worktree was made for; its id names the branch. */
  runnerId: z.uuid(),
  /** The worktree's top directory. */
  path: z.string(),
  /** `stratavore/<runnerId>`. */
  branch: z.string(),
  /** The commit of the project's HEAD the branch was made from. */
  baseCommit: z.string(),
});

/** What git says of a worktree now. */
export const worktreeStatusSchema = z.object({
  /** The worktree's directory is still there. */
  exists: z.boolean(),
  /** Files with uncommitted changes, untracked files included (0: clean). */
  changes: z.number().int().nonnegative(),
  /** The branch is still there. */
  branchExists: z.boolean(),
  /** Commits on the branch since its base commit. */
  ahead: z.number().int().nonnegative(),
  /** Commits on the branch that the project's HEAD does not have (0: merged). */
  unmerged: z.number().int().nonnegative(),
});

export const worktreeReplySchema = z.object({
  /** The runner it was made for (`stratavore worktrees rm <runnerId>`). */
  runnerId: z.uuid(),
  project: z.object({ id: z.uuid(), name: z.string() }),
  /** The state of the runner it was made for. */
  runnerState: runnerStateSchema,
  /** Runners working in it now (that runner, its restarts, resumes of its session). */
  activeRunners: z.array(z.object({ id: z.uuid(), state: runnerStateSchema })),
  path: z.string(),
  branch: z.string(),
  baseCommit: z.string(),
  /** The repository's top directory it belongs to (the project's path, or the repository above it). */
  repository: z.string(),
  /** The machine it is on (the launcher's). */
  host: z.string(),
  createdAt: timestamp,
  removedAt: timestamp.nullable(),
  /** `null` when removed, on another host, or git could not tell (`statusNote` says which). */
  status: worktreeStatusSchema.nullable(),
  statusNote: z.string().nullable(),
});

export const worktreeListReplySchema = z.object({ worktrees: z.array(worktreeReplySchema) });

/** The worktree as it was just before its removal, with `removedAt` set. */
export const removeWorktreeReplySchema = z.object({ removed: worktreeReplySchema });

export type RunnerWorktreeReply = z.output<typeof runnerWorktreeSchema>;
export type WorktreeStatus = z.output<typeof worktreeStatusSchema>;
export type WorktreeReply = z.output<typeof worktreeReplySchema>;
export type WorktreeListReply = z.output<typeof worktreeListReplySchema>;
export type RemoveWorktreeReply = z.output<typeof removeWorktreeReplySchema>;
