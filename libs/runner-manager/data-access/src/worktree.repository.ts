import {
  ACTIVE_RUNNER_STATES,
  type RunnerState,
  type SlotHolder,
  type Worktree,
} from '@stratavore/runner-manager-domain';
import { type EntityManager, IsNull } from 'typeorm';

import { WorktreeEntity } from './worktree.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface WorktreeListFilter {
  readonly projectId?: string;
  /** Also the worktrees already removed. */
  readonly includeRemoved: boolean;
}

/** A worktree with the state of the runner it was made for. */
export interface WorktreeWithOwner {
  readonly worktree: Worktree;
  readonly runnerState: RunnerState;
}

/** Git worktrees of runners (docs/worktrees.md). */
export interface WorktreeRepository {
  insert(worktree: Worktree): Promise<void>;
  /** The worktree made for this runner; `lock: true` takes its row lock (`FOR UPDATE`). */
  findByRunner(runnerId: string, options?: { readonly lock?: boolean }): Promise<Worktree | null>;
  /**
   * The project's worktree that contains `dir` (its path or below), newest first when several
   * did over time; removed ones included.
   */
  findContaining(projectId: string, dir: string): Promise<Worktree | null>;
  /** Oldest first, with the state of the runner each was made for. */
  list(filter: WorktreeListFilter): Promise<WorktreeWithOwner[]>;
  /** Active runners (pending, starting, running, stopping) working in these worktrees, by worktree. */
  activeRunners(runnerIds: readonly string[]): Promise<Map<string, SlotHolder[]>>;
  markRemoved(runnerId: string, at: Date): Promise<void>;
}

function toWorktree(row: WorktreeEntity): Worktree {
  return {
    runnerId: row.runnerId,
    projectId: row.projectId,
    host: row.host,
    repository: row.repository,
    path: row.path,
    branch: row.branch,
    baseCommit: row.baseCommit,
    createdAt: row.createdAt,
    removedAt: row.removedAt,
  };
}

/** A `runner.worktrees` row as `query` returns it. */
interface WorktreeRow {
  readonly runner_id: string;
  readonly project_id: string;
  readonly host: string;
  readonly repository: string;
  readonly path: string;
  readonly branch: string;
  readonly base_commit: string;
  readonly created_at: Date;
  readonly removed_at: Date | null;
}

function fromRow(row: WorktreeRow): Worktree {
  return {
    runnerId: row.runner_id,
    projectId: row.project_id,
    host: row.host,
    repository: row.repository,
    path: row.path,
    branch: row.branch,
    baseCommit: row.base_commit,
    createdAt: row.created_at,
    removedAt: row.removed_at,
  };
}

/** {@link WorktreeRepository} on one EntityManager. */
export class TypeOrmWorktreeRepository implements WorktreeRepository {
  constructor(private readonly manager: EntityManager) {}

  private get repo() {
    return this.manager.getRepository(WorktreeEntity);
  }

  async insert(worktree: Worktree): Promise<void> {
    await this.repo.insert(Object.assign(new WorktreeEntity(), worktree));
  }

  async findByRunner(
    runnerId: string,
    options: { readonly lock?: boolean } = {},
  ): Promise<Worktree | null> {
    if (!UUID.test(runnerId)) return null;
    const row = await this.repo.findOne({
      where: { runnerId },
      ...(options.lock === true ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toWorktree(row) : null;
  }

  async findContaining(projectId: string, dir: string): Promise<Worktree | null> {
    // left() rather than LIKE: a path may hold % or _.
    const row = await this.repo
      .createQueryBuilder('w')
      .where('w.project_id = :projectId', { projectId })
      .andWhere(`(w.path = :dir OR left(:dir, length(w.path) + 1) = w.path || '/')`, { dir })
      .orderBy('w.created_at', 'DESC')
      .getOne();
    return row ? toWorktree(row) : null;
  }

  async list(filter: WorktreeListFilter): Promise<WorktreeWithOwner[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.projectId !== undefined) {
      params.push(filter.projectId);
      conditions.push(`w.project_id = $${params.length}`);
    }
    if (!filter.includeRemoved) conditions.push('w.removed_at IS NULL');
    const rows = await this.manager.query<Array<WorktreeRow & { runner_state: RunnerState }>>(
      `SELECT w.*, r.state AS runner_state
       FROM runner.worktrees w JOIN runner.runners r ON r.id = w.runner_id
       ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
       ORDER BY w.created_at, w.runner_id`,
      params,
    );
    return rows.map((row) => ({ worktree: fromRow(row), runnerState: row.runner_state }));
  }

  async activeRunners(runnerIds: readonly string[]): Promise<Map<string, SlotHolder[]>> {
    const byWorktree = new Map<string, SlotHolder[]>();
    if (runnerIds.length === 0) return byWorktree;
    const rows = await this.manager.query<
      Array<{ worktree_id: string; id: string; state: RunnerState }>
    >(
      `SELECT worktree_id, id, state FROM runner.runners
       WHERE worktree_id = ANY($1::uuid[]) AND state = ANY($2::text[])
       ORDER BY created_at, id`,
      [[...runnerIds], [...ACTIVE_RUNNER_STATES]],
    );
    for (const row of rows) {
      const holders = byWorktree.get(row.worktree_id) ?? [];
      holders.push({ id: row.id, state: row.state });
      byWorktree.set(row.worktree_id, holders);
    }
    return byWorktree;
  }

  async markRemoved(runnerId: string, at: Date): Promise<void> {
    await this.repo.update({ runnerId, removedAt: IsNull() }, { removedAt: at });
  }
}
