import {
  advisoryXactLock,
  createDataSource,
  revertLastMigration,
  runMigrations,
  withTransaction,
} from '@stratavore/persistence';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';

import { ApiKeyEntity } from './api-key.entity';
import { type ApiKeyRecord, type ApiKeyScope, type NewApiKey } from './api-key.record';
import { GatewayApiKeys1764300000000 } from './migrations/1764300000000-gateway-api-keys.migration';

/** The schema the api-gateway owns. */
export const GATEWAY_SCHEMA = 'gateway';

/** Migrations of the `gateway` schema, oldest first. */
export const gatewayMigrations = [GatewayApiKeys1764300000000];

const BOOTSTRAP_LOCK = 'gateway:api-keys:bootstrap';

function toRecord(entity: ApiKeyEntity): ApiKeyRecord {
  return {
    id: entity.id,
    name: entity.name,
    prefix: entity.prefix,
    secretHash: entity.secretHash,
    scope: entity.scope as ApiKeyScope,
    createdAt: entity.createdAt,
    lastUsedAt: entity.lastUsedAt,
    revokedAt: entity.revokedAt,
  };
}

/** Storage of API keys; plain records in and out, no ORM types. */
export class ApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    const entity = this.dataSource.getRepository(ApiKeyEntity).create({
      ...key,
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.dataSource.getRepository(ApiKeyEntity).insert(entity);
    return toRecord(entity);
  }

  /**
   * Inserts `key` only when no key exists at all, revoked ones included; serialized by an
   * advisory lock so two first starts racing create one key. Returns the stored key or null.
   */
  async insertIfNoneExist(key: NewApiKey): Promise<ApiKeyRecord | null> {
    return withTransaction(this.dataSource, async (manager: EntityManager) => {
      await advisoryXactLock(manager, BOOTSTRAP_LOCK);
      const existing = await manager.getRepository(ApiKeyEntity).count();
      if (existing > 0) return null;
      const entity = manager
        .getRepository(ApiKeyEntity)
        .create({ ...key, lastUsedAt: null, revokedAt: null });
      await manager.getRepository(ApiKeyEntity).insert(entity);
      return toRecord(entity);
    });
  }

  async findByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const entity = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix });
    return entity ? toRecord(entity) : null;
  }

  async findById(id: string): Promise<ApiKeyRecord | null> {
    const entity = await this.dataSource.getRepository(ApiKeyEntity).findOneBy({ id });
    return entity ? toRecord(entity) : null;
  }

  /** Every key, oldest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const entities = await this.dataSource
      .getRepository(ApiKeyEntity)
      .find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return entities.map(toRecord);
  }

  /** Marks the key revoked at `at` unless it already is; returns the key as stored after. */
  async revoke(id: string, at: Date): Promise<ApiKeyRecord | null> {
    await this.dataSource
      .getRepository(ApiKeyEntity)
      .update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return this.findById(id);
  }

  async touchLastUsed(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: at });
  }
}

export interface GatewayDatabaseOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/**
 * The gateway's connection to its `gateway` schema: open (and migrate) once at start-up,
 * close on shutdown.
 */
export class GatewayDatabase {
  readonly apiKeys: ApiKeyRepository;
  private readonly dataSource: DataSource;

  constructor(options: GatewayDatabaseOptions) {
    this.dataSource = createDataSource({
      url: options.url,
      schema: GATEWAY_SCHEMA,
      entities: [ApiKeyEntity],
      migrations: gatewayMigrations,
      poolSize: options.poolSize ?? 5,
      applicationName: options.applicationName ?? 'api-gateway',
    });
    this.apiKeys = new ApiKeyRepository(this.dataSource);
  }

  /** Connects and applies pending migrations; returns the names of those it ran. */
  async open(): Promise<string[]> {
    if (!this.dataSource.isInitialized) await this.dataSource.initialize();
    return runMigrations(this.dataSource);
  }

  /** Reverts the newest applied migration (tests of the migrations; operators rolling back). */
  async revertLastMigration(): Promise<void> {
    await revertLastMigration(this.dataSource);
  }

  /** Rejects when the database does not answer. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /** Names of the tables in the `gateway` schema (migration tests). */
  async tables(): Promise<string[]> {
    const rows: Array<{ table_name: string }> = await this.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [GATEWAY_SCHEMA],
    );
    return rows.map((row) => row.table_name);
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
