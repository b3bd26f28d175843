import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

export interface ServiceDataSourceOptions {
  /** `postgres://...` connection string. */
  readonly url: string;
  /**
   * The schema this service owns: entities without an explicit schema, the migrations table and
   * unqualified names (the connections' `search_path`) resolve there.
   */
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations?: MixedList<Function | string>;
  /** Maximum connections in the pool (default 10). */
  readonly poolSize?: number;
  /** Shown in `pg_stat_activity.application_name`. */
  readonly applicationName?: string;
  /** Name of the table recording executed migrations, inside `schema` (default `migrations`). */
  readonly migrationsTableName?: string;
  /** Milliseconds to wait for a new connection before failing (default 10 000). */
  readonly connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Guards the schema name, which is interpolated into DDL (identifiers cannot be bound). */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": expected ${SCHEMA_NAME.source}`);
  }
}

/**
 * Builds (does not initialize) the TypeORM DataSource of one service schema. Never
 * synchronizes: the schema changes only through reviewed migrations run by {@link runMigrations}.
 */
export function createDataSource(options: ServiceDataSourceOptions): DataSource {
  assertSchemaName(options.schema);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: options.migrationsTableName ?? 'migrations',
    migrationsRun: false,
    synchronize: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName,
    connectTimeoutMS: options.connectTimeoutMs ?? 10_000,
    logging: false,
    // Unqualified names (in migrations and raw SQL) resolve to the service's own schema.
    extra: { options: `-c search_path="${options.schema}",public` },
  });
}
