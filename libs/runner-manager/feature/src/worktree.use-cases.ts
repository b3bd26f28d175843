import {
  type ListWorktreesRequest,
  type RemoveWorktreeReply,
  type RemoveWorktreeRequest,
  type WorktreeListReply,
} from '@stratavore/contracts';
import { type WorktreeWithOwner } from '@stratavore/runner-manager-data-access';
import {
  type Project,
  RunnerException,
  toWorktreeReply,
  type Worktree,
  worktreeHasChanges,
  worktreeInUse,
  worktreeNotFound,
  type WorktreeStatus,
  worktreeUnavailable,
} from '@stratavore/runner-manager-domain';

import { describeGitFailure } from './git-worktrees';
import { requireProject } from './project.use-cases';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { type WorktreeHost } from './worktree-host.port';

/** Worktrees whose git status is asked at once. */
const STATUS_CONCURRENCY = 4;

interface StatusOutcome {
  readonly status: WorktreeStatus | null;
  readonly statusNote: string | null;
}

/** Where `worktree` can be acted on from here: this launcher's host, if it is the worktree's. */
function reachable(
  host: WorktreeHost | undefined,
  worktree: Worktree,
): { host: WorktreeHost } | { note: string } {
  if (host === undefined) return { note: "this runner-manager's launcher makes no git worktrees" };
  if (host.host !== worktree.host) {
    return { note: `it is on host ${worktree.host}; this runner-manager runs on ${host.host}` };
  }
  return { host };
}

async function statusOf(
  host: WorktreeHost | undefined,
  worktree: Worktree,
): Promise<StatusOutcome> {
  if (worktree.removedAt !== null) return { status: null, statusNote: 'removed' };
  const here = reachable(host, worktree);
  if ('note' in here) return { status: null, statusNote: here.note };
  try {
    return { status: await here.host.status(worktree), statusNote: null };
  } catch (error) {
    return { status: null, statusNote: describeGitFailure(error) };
  }
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * `worktrees.list`: the worktrees made for runners, oldest first, each with the state of its
 * runner, the runners working in it now, and what git says of it (changes, commits ahead of its
 * base, commits not in the project's HEAD) when it is on this runner-manager's machine.
 */
export class ListWorktrees {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: ListWorktreesRequest): Promise<WorktreeListReply> {
    const { entries, projects, active } = await this.deps.store.read(async (reads) => {
      const project =
        request.project === undefined ? undefined : await requireProject(reads, request.project);
      const found = await reads.worktrees.list({
        ...(project === undefined ? {} : { projectId: project.id }),
        includeRemoved: request.includeRemoved,
      });
      const byId = new Map<string, Pick<Project, 'id' | 'name'>>();
      for (const { worktree } of found) {
        if (byId.has(worktree.projectId)) continue;
        const owner = await reads.projects.findById(worktree.projectId);
        byId.set(worktree.projectId, owner ?? { id: worktree.projectId, name: '(unknown)' });
      }
      return {
        entries: found,
        projects: byId,
        active: await reads.worktrees.activeRunners(found.map((entry) => entry.worktree.runnerId)),
      };
    });
    const statuses = await mapLimited(entries, STATUS_CONCURRENCY, (entry: WorktreeWithOwner) =>
      statusOf(this.deps.launcher.worktrees, entry.worktree),
    );
    return {
      worktrees: entries.map((entry, index) =>
        toWorktreeReply({
          worktree: entry.worktree,
          project: projects.get(entry.worktree.projectId) ?? {
            id: entry.worktree.projectId,
            name: '(unknown)',
          },
          runnerState: entry.runnerState,
          activeRunners: active.get(entry.worktree.runnerId) ?? [],
          ...(statuses[index] ?? { status: null, statusNote: null }),
        }),
      ),
    };
  }
}

/**
 * `worktrees.remove`: removes a runner's worktree and deletes its branch, under the project's
 * lock so that no launch can start working in it meanwhile. Refused while a runner works in it
 * (WorktreeInUse), when it is on another machine (WorktreeUnavailable), and, without `force`,
 * when it has uncommitted changes or commits that the project's HEAD does not have
 * (WorktreeHasChanges). The row stays, with `removedAt`.
 */
export class RemoveWorktree {
  constructor(private readonly deps: RunnerManagerDeps) {}

  async execute(request: RemoveWorktreeRequest): Promise<RemoveWorktreeReply> {
    return this.deps.store.transaction(async (tx) => {
      const seen = await tx.worktrees.findByRunner(request.runner);
      if (seen === null) {
        if ((await tx.runners.findById(request.runner)) === null) {
          throw RunnerException.runnerNotFound(request.runner);
        }
        throw worktreeNotFound(request.runner);
      }
      await tx.lockProject(seen.projectId);
      const worktree = (await tx.worktrees.findByRunner(request.runner, { lock: true })) ?? seen;
      if (worktree.removedAt !== null) throw worktreeNotFound(request.runner, worktree);
      const holders = (await tx.worktrees.activeRunners([worktree.runnerId])).get(
        worktree.runnerId,
      );
      if (holders !== undefined && holders.length > 0) throw worktreeInUse(worktree, holders);
      const here = reachable(this.deps.launcher.worktrees, worktree);
      if ('note' in here) throw worktreeUnavailable(worktree, here.note);
      let status: WorktreeStatus;
      try {
        status = await here.host.status(worktree);
      } catch (error) {
        throw worktreeUnavailable(worktree, describeGitFailure(error));
      }
      if (!request.force && (status.changes > 0 || status.unmerged > 0)) {
        throw worktreeHasChanges(worktree, status);
      }
      try {
        await here.host.remove(worktree, { force: request.force });
      } catch (error) {
        throw worktreeUnavailable(worktree, describeGitFailure(error));
      }
      const removedAt = this.deps.clock.now();
      await tx.worktrees.markRemoved(worktree.runnerId, removedAt);
      const runner = await tx.runners.findById(worktree.runnerId);
      const project = await tx.projects.findById(worktree.projectId);
      return {
        removed: toWorktreeReply({
          worktree: { ...worktree, removedAt },
          project: project ?? { id: worktree.projectId, name: '(unknown)' },
          runnerState: runner?.state ?? 'failed',
          activeRunners: [],
          status,
          statusNote: null,
        }),
      };
    });
  }
}
