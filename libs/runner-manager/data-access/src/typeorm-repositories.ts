import { OutboxWriter } from '@stratavore/messaging';
import { advisoryXactLock } from '@stratavore/persistence';
import {
  type DesiredState,
  type Project,
  type QueuedLaunch,
  type RestartPolicy,
  type Runner,
  RunnerException,
  type RunnerFailureReason,
  type RunnerMode,
  type RunnerOrigin,
  type RunnerReplyFields,
  type RunnerState,
  type RunnerWorktree,
  type SlotHolder,
  type WorktreeChoice,
} from '@stratavore/runner-manager-domain';
import { type EntityManager, In, IsNull, QueryFailedError } from 'typeorm';

import { ProjectEntity, QueuedLaunchEntity, RunnerEntity } from './entities';
import { entityColumns } from './entity-columns';
import { PlannedRestartEntity } from './planned-restart.entity';
import { toPlannedRestart, TypeOrmPlannedRestartRepository } from './planned-restart.repository';
import {
  type ActiveCount,
  projectLockKey,
  type ProjectRepository,
  type QueuedLaunchRepository,
  type RunnerListFilter,
  type RunnerManagerReads,
  type RunnerManagerTransaction,
  type RunnerPageFilter,
  type RunnerRepository,
  type RunnerView,
  type RunnerViewRepository,
} from './repositories';
import { TypeOrmWorktreeRepository } from './worktree.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTIVE: RunnerState[] = ['pending', 'starting', 'running', 'waiting', 'idle', 'stopping'];

function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && driverError.constraint === constraint;
}

const toNumber = (value: string | null): number | null => (value === null ? null : Number(value));

function toProject(row: ProjectEntity): Project {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    description: row.description,
    command: row.command,
    maxRunners: row.maxRunners,
    env: row.env.map((entry) => ({ name: entry.name, value: entry.value, secret: entry.secret })),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    archivedAt: row.archivedAt,
    estimateTokens: toNumber(row.estimateTokens),
    estimateUsd: toNumber(row.estimateUsd),
  };
}

const toText = (value: number | null): string | null => (value === null ? null : String(value));

function fromProject(project: Project): ProjectEntity {
  return Object.assign(new ProjectEntity(), {
    ...project,
    command: [...project.command],
    env: project.env.map((entry) => ({ ...entry })),
    estimateTokens: toText(project.estimateTokens),
    estimateUsd: toText(project.estimateUsd),
  });
}

/** The runner columns a reply shows; the others are left out of the views' select list. */
const NOT_IN_REPLIES = ['tokenHash', 'lastHeartbeatSeq', 'sessionResult', 'updatedAt'] as const;
type RunnerReplyRow = Omit<RunnerEntity, (typeof NOT_IN_REPLIES)[number]>;

function toRunner(row: RunnerEntity): Runner {
  return {
    ...toRunnerReplyFields(row),
    tokenHash: row.tokenHash,
    lastHeartbeatSeq: toNumber(row.lastHeartbeatSeq),
    sessionResult: row.sessionResult,
  };
}

function toRunnerReplyFields(row: RunnerReplyRow): RunnerReplyFields {
  return {
    id: row.id,
    projectId: row.projectId,
    state: row.state as RunnerState,
    desiredState: row.desiredState as DesiredState,
    mode: row.mode as RunnerMode,
    command: row.command,
    prompt: row.prompt,
    pid: row.pid,
    agentPid: row.agentPid,
    host: row.host,
    exitCode: row.exitCode,
    signal: row.signal,
    failureReason: row.failureReason as RunnerFailureReason | null,
    sessionId: row.sessionId,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    lastHeartbeatAt: row.lastHeartbeatAt,
    cpuPercent: row.cpuPercent,
    memoryBytes: toNumber(row.memoryBytes),
    tokens: {
      inputTokens: Number(row.inputTokens),
      outputTokens: Number(row.outputTokens),
      cacheCreationTokens: Number(row.cacheCreationTokens),
      cacheReadTokens: Number(row.cacheReadTokens),
    },
    ...toOrigin(row),
    worktree: toRunnerWorktree(row),
    attached: row.attached,
    activity: row.activity,
  };
}

function toRunnerWorktree(row: RunnerReplyRow): RunnerWorktree | null {
  if (row.worktreeId === null) return null;
  return {
    runnerId: row.worktreeId,
    path: row.worktreePath ?? '',
    branch: row.worktreeBranch ?? '',
    baseCommit: row.worktreeBaseCommit ?? '',
  };
}

/** The queued launch's worktree columns. */
function toWorktreeChoice(row: QueuedLaunchEntity): WorktreeChoice | null {
  if (row.newWorktree) return { kind: 'new' };
  return row.worktreeId === null ? null : { kind: 'existing', runnerId: row.worktreeId };
}

function fromWorktreeChoice(
  choice: WorktreeChoice | null | undefined,
): Pick<QueuedLaunchEntity, 'newWorktree' | 'worktreeId'> {
  return {
    newWorktree: choice?.kind === 'new',
    worktreeId: choice?.kind === 'existing' ? choice.runnerId : null,
  };
}

/** The origin columns `runners` and `queued_launches` share. */
function toOrigin(row: RunnerReplyRow | QueuedLaunchEntity): RunnerOrigin {
  return {
    cwd: row.cwd,
    resumedFrom: row.resumedFrom,
    restartPolicy: row.restartPolicy as RestartPolicy,
    maxRestarts: row.maxRestarts,
    restartOf: row.restartOf,
    restarts: row.restarts,
  };
}

function fromRunner(runner: Runner, updatedAt: Date): RunnerEntity {
  const { tokens, lastHeartbeatSeq, memoryBytes, worktree, attached, activity, ...rest } = runner;
  return Object.assign(new RunnerEntity(), {
    ...rest,
    attached: attached === true,
    activity: activity ? { ...activity } : null,
    worktreeId: worktree?.runnerId ?? null,
    worktreePath: worktree?.path ?? null,
    worktreeBranch: worktree?.branch ?? null,
    worktreeBaseCommit: worktree?.baseCommit ?? null,
    command: [...runner.command],
    updatedAt,
    lastHeartbeatSeq: lastHeartbeatSeq === null ? null : String(lastHeartbeatSeq),
    memoryBytes: memoryBytes === null ? null : String(memoryBytes),
    inputTokens: String(tokens.inputTokens),
    outputTokens: String(tokens.outputTokens),
    cacheCreationTokens: String(tokens.cacheCreationTokens),
    cacheReadTokens: String(tokens.cacheReadTokens),
  });
}

function toQueued(row: QueuedLaunchEntity): QueuedLaunch {
  return {
    id: row.id,
    projectId: row.projectId,
    position: Number(row.position),
    mode: row.mode as RunnerMode,
    command: row.command,
    prompt: row.prompt,
    createdAt: row.createdAt,
    estimateTokens: toNumber(row.estimateTokens),
    estimateUsd: toNumber(row.estimateUsd),
    ...toOrigin(row),
    worktree: toWorktreeChoice(row),
  };
}

class TypeOrmProjectRepository implements ProjectRepository {
  constructor(private readonly manager: EntityManager) {}

  private get repo() {
    return this.manager.getRepository(ProjectEntity);
  }

  async insert(project: Project): Promise<void> {
    await this.write(project, () => this.repo.insert(fromProject(project)));
  }

  async save(project: Project): Promise<void> {
    await this.write(project, () => this.repo.save(fromProject(project)));
  }

  private async write(project: Project, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (isUniqueViolation(error, 'uq_projects_name_active')) {
        throw RunnerException.projectNameTaken(project.name);
      }
      throw error;
    }
  }

  async findById(id: string): Promise<Project | null> {
    if (!UUID.test(id)) return null;
    return this.findOne(`"p"."id" = $1`, [id]);
  }

  async findActiveByName(name: string): Promise<Project | null> {
    return this.findOne(`"p"."name" = $1 AND "p"."archived_at" IS NULL`, [name]);
  }

  /**
   * One project by a hand-written condition: these lookups run for every project-scoped API
   * request (`projects.get`, a budget check, a filtered list), where building the query with
   * TypeORM's query builder cost more CPU than the query.
   */
  private async findOne(where: string, params: unknown[]): Promise<Project | null> {
    const columns = entityColumns(this.manager, ProjectEntity, 'p');
    const rows = await this.manager.query<Array<Record<string, unknown>>>(
      `SELECT ${columns.select} FROM ${columns.table} "p" WHERE ${where}`,
      params,
    );
    const row = rows[0] === undefined ? null : columns.hydrate(rows[0]);
    return row ? toProject(row) : null;
  }

  async resolve(ref: string): Promise<Project | null> {
    return UUID.test(ref) ? this.findById(ref) : this.findActiveByName(ref);
  }

  async list(options: { readonly includeArchived: boolean }): Promise<Project[]> {
    const rows = await this.repo.find({
      where: options.includeArchived ? {} : { archivedAt: IsNull() },
      order: { name: 'ASC', createdAt: 'ASC' },
    });
    return rows.map(toProject);
  }
}

class TypeOrmRunnerRepository implements RunnerRepository {
  constructor(private readonly manager: EntityManager) {}

  private get repo() {
    return this.manager.getRepository(RunnerEntity);
  }

  async insert(runner: Runner): Promise<void> {
    await this.repo.insert(fromRunner(runner, runner.createdAt));
  }

  async save(runner: Runner): Promise<void> {
    await this.repo.save(fromRunner(runner, new Date()));
  }

  async findById(id: string, options: { readonly lock?: boolean } = {}): Promise<Runner | null> {
    if (!UUID.test(id)) return null;
    const row = await this.repo.findOne({
      where: { id },
      ...(options.lock === true ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toRunner(row) : null;
  }

  async list(filter: RunnerListFilter): Promise<Runner[]> {
    const rows = await this.repo.find({
      where: {
        ...(filter.projectId === undefined ? {} : { projectId: filter.projectId }),
        ...(filter.states === undefined ? {} : { state: In([...filter.states]) }),
      },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: filter.limit,
    });
    return rows.map(toRunner);
  }

  async activeOf(projectId: string): Promise<SlotHolder[]> {
    const rows = await this.repo.find({
      select: { id: true, state: true, createdAt: true },
      where: { projectId, state: In(ACTIVE) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((row) => ({ id: row.id, state: row.state as RunnerState }));
  }

  async listActive(projectId?: string): Promise<Runner[]> {
    const rows = await this.repo.find({
      where: { ...(projectId === undefined ? {} : { projectId }), state: In(ACTIVE) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toRunner);
  }

  async activeCounts(projectIds?: readonly string[]): Promise<ActiveCount[]> {
    const query = this.repo
      .createQueryBuilder('r')
      .select('r.project_id', 'projectId')
      .addSelect('r.state', 'state')
      .addSelect('count(*)::int', 'count')
      .where('r.state IN (:...active)', { active: ACTIVE })
      .groupBy('r.project_id')
      .addGroupBy('r.state');
    if (projectIds !== undefined) {
      if (projectIds.length === 0) return [];
      query.andWhere('r.project_id IN (:...ids)', { ids: [...projectIds] });
    }
    const rows = await query.getRawMany<{ projectId: string; state: RunnerState; count: number }>();
    return rows.map((row) => ({ projectId: row.projectId, state: row.state, count: row.count }));
  }

  async activeInSession(sessionId: string): Promise<Runner[]> {
    const rows = await this.repo.find({
      where: [
        { sessionId, state: In(ACTIVE) },
        { resumedFrom: sessionId, state: In(ACTIVE) },
      ],
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toRunner);
  }
}

class TypeOrmQueuedLaunchRepository implements QueuedLaunchRepository {
  constructor(private readonly manager: EntityManager) {}

  private get repo() {
    return this.manager.getRepository(QueuedLaunchEntity);
  }

  async enqueue(entry: Omit<QueuedLaunch, 'position'>): Promise<QueuedLaunch> {
    const rows = await this.manager.query<Array<{ next: string }>>(
      `SELECT coalesce(max(position), 0) + 1 AS next FROM runner.queued_launches
       WHERE project_id = $1`,
      [entry.projectId],
    );
    const position = rows[0]?.next ?? '1';
    const { worktree, ...fields } = entry;
    const row = Object.assign(new QueuedLaunchEntity(), {
      ...fields,
      ...fromWorktreeChoice(worktree),
      command: [...entry.command],
      position,
      estimateTokens: toText(entry.estimateTokens),
      estimateUsd: toText(entry.estimateUsd),
    });
    await this.repo.insert(row);
    return toQueued(row);
  }

  async oldest(projectId: string): Promise<QueuedLaunch | null> {
    const row = await this.repo.findOne({ where: { projectId }, order: { position: 'ASC' } });
    return row ? toQueued(row) : null;
  }

  async findById(id: string): Promise<QueuedLaunch | null> {
    if (!UUID.test(id)) return null;
    const row = await this.repo.findOneBy({ id });
    return row ? toQueued(row) : null;
  }

  async remove(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  async removeAllOf(projectId: string): Promise<number> {
    const result = await this.repo.delete({ projectId });
    return result.affected ?? 0;
  }

  async listOf(projectIds?: readonly string[]): Promise<QueuedLaunch[]> {
    if (projectIds?.length === 0) return [];
    const rows = await this.repo.find({
      where: projectIds === undefined ? {} : { projectId: In([...projectIds]) },
      order: { projectId: 'ASC', position: 'ASC' },
    });
    return rows.map(toQueued);
  }
}

/**
 * Runner replies' reads in one round trip: the runner row (the columns a reply shows) with its
 * project's name and its planned restart joined (the API's `runners.get` / `runners.list`),
 * instead of one query for each.
 */
class TypeOrmRunnerViewRepository implements RunnerViewRepository {
  constructor(private readonly manager: EntityManager) {}

  async findById(id: string): Promise<RunnerView | null> {
    if (!UUID.test(id)) return null;
    const [view] = await this.query(`WHERE "r"."id" = $1`, [id]);
    return view ?? null;
  }

  async list(filter: RunnerPageFilter): Promise<RunnerView[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.projectId !== undefined) {
      params.push(filter.projectId);
      conditions.push(`"r"."project_id" = $${params.length}`);
    }
    if (filter.states !== undefined) {
      params.push([...filter.states]);
      conditions.push(`"r"."state" = ANY($${params.length}::text[])`);
    }
    if (filter.after !== undefined) {
      if (!UUID.test(filter.after)) return [];
      // The cursor runner's own (created_at, id), exact to the microsecond; none: no rows.
      params.push(filter.after);
      conditions.push(
        `("r"."created_at", "r"."id") < (SELECT "c"."created_at", "c"."id" FROM runner.runners "c" WHERE "c"."id" = $${params.length})`,
      );
    }
    params.push(filter.limit);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    return this.query(
      `${where} ORDER BY "r"."created_at" DESC, "r"."id" DESC LIMIT $${params.length}`,
      params,
    );
  }

  async exists(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.manager.query<unknown[]>(`SELECT 1 FROM runner.runners WHERE id = $1`, [
      id,
    ]);
    return rows.length > 0;
  }

  private async query(tail: string, params: unknown[]): Promise<RunnerView[]> {
    const runners = entityColumns(this.manager, RunnerEntity, 'r', NOT_IN_REPLIES);
    const restarts = entityColumns(this.manager, PlannedRestartEntity, 'pr');
    const rows = await this.manager.query<Array<Record<string, unknown>>>(
      `SELECT ${runners.select}, "p"."name" AS "p.name", ${restarts.select}
       FROM ${runners.table} "r"
       LEFT JOIN runner.projects "p" ON "p"."id" = "r"."project_id"
       LEFT JOIN ${restarts.table} "pr" ON "pr"."runner_id" = "r"."id"
       ${tail}`,
      params,
    );
    return rows.map((row) => {
      const restart = restarts.hydrate(row);
      return {
        runner: toRunnerReplyFields(runners.hydrate(row)!),
        projectName: (row['p.name'] as string | null) ?? null,
        restart: restart ? toPlannedRestart(restart) : null,
      };
    });
  }
}

/** Repositories bound to one EntityManager (a transaction's, or the pool's for reads). */
export function readsOn(manager: EntityManager): RunnerManagerReads {
  return {
    projects: new TypeOrmProjectRepository(manager),
    runners: new TypeOrmRunnerRepository(manager),
    queue: new TypeOrmQueuedLaunchRepository(manager),
    restarts: new TypeOrmPlannedRestartRepository(manager),
    views: new TypeOrmRunnerViewRepository(manager),
    worktrees: new TypeOrmWorktreeRepository(manager),
  };
}

const outbox = new OutboxWriter();

/** The transaction handle over a manager inside a transaction. */
export function transactionOn(manager: EntityManager): RunnerManagerTransaction {
  return {
    ...readsOn(manager),
    lockProject: (projectId) => advisoryXactLock(manager, projectLockKey(projectId)),
    appendEvents: (envelopes) => outbox.append(manager, envelopes),
    claimInbox: async (consumer, eventId) => {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO messaging.inbox (consumer, event_id) VALUES ($1, $2)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING 1`,
        [consumer, eventId],
      );
      return inserted.length > 0;
    },
  };
}
