import { type PlannedRestart, type PlannedRestartState } from '@stratavore/runner-manager-domain';
import { type EntityManager, In, LessThanOrEqual } from 'typeorm';

import { PlannedRestartEntity } from './planned-restart.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Restarts planned for ended runners (docs/runners.md, "Restart policy"). */
export interface PlannedRestartRepository {
  insert(restart: PlannedRestart): Promise<void>;
  /** Writes every field. */
  save(restart: PlannedRestart): Promise<void>;
  findById(id: string, options?: { readonly lock?: boolean }): Promise<PlannedRestart | null>;
  /** The restart planned for this ended runner (at most one). */
  findByRunner(
    runnerId: string,
    options?: { readonly lock?: boolean },
  ): Promise<PlannedRestart | null>;
  /** `scheduled` restarts whose time has come, soonest first. */
  due(now: Date, limit: number): Promise<PlannedRestart[]>;
  /** The restarts planned for these runners. */
  listForRunners(runnerIds: readonly string[]): Promise<PlannedRestart[]>;
}

export function toPlannedRestart(row: PlannedRestartEntity): PlannedRestart {
  return {
    id: row.id,
    runnerId: row.runnerId,
    projectId: row.projectId,
    attempt: row.attempt,
    restartAt: row.restartAt,
    reason: row.reason as PlannedRestart['reason'],
    resumeSessionId: row.resumeSessionId,
    state: row.state as PlannedRestartState,
    replacementId: row.replacementId,
    detail: row.detail,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function fromPlannedRestart(restart: PlannedRestart): PlannedRestartEntity {
  return Object.assign(new PlannedRestartEntity(), restart);
}

/** {@link PlannedRestartRepository} on one EntityManager. */
export class TypeOrmPlannedRestartRepository implements PlannedRestartRepository {
  constructor(private readonly manager: EntityManager) {}

  private get repo() {
    return this.manager.getRepository(PlannedRestartEntity);
  }

  async insert(restart: PlannedRestart): Promise<void> {
    await this.repo.insert(fromPlannedRestart(restart));
  }

  async save(restart: PlannedRestart): Promise<void> {
    await this.repo.save(fromPlannedRestart(restart));
  }

  async findById(
    id: string,
    options: { readonly lock?: boolean } = {},
  ): Promise<PlannedRestart | null> {
    if (!UUID.test(id)) return null;
    const row = await this.repo.findOne({
      where: { id },
      ...(options.lock === true ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toPlannedRestart(row) : null;
  }

  async findByRunner(
    runnerId: string,
    options: { readonly lock?: boolean } = {},
  ): Promise<PlannedRestart | null> {
    if (!UUID.test(runnerId)) return null;
    const row = await this.repo.findOne({
      where: { runnerId },
      ...(options.lock === true ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    return row ? toPlannedRestart(row) : null;
  }

  async due(now: Date, limit: number): Promise<PlannedRestart[]> {
    const rows = await this.repo.find({
      where: { state: 'scheduled', restartAt: LessThanOrEqual(now) },
      order: { restartAt: 'ASC', id: 'ASC' },
      take: limit,
    });
    return rows.map(toPlannedRestart);
  }

  async listForRunners(runnerIds: readonly string[]): Promise<PlannedRestart[]> {
    const ids = runnerIds.filter((id) => UUID.test(id));
    if (ids.length === 0) return [];
    const rows = await this.repo.find({ where: { runnerId: In(ids) } });
    return rows.map(toPlannedRestart);
  }
}
