import { type EntityManager, type EntityTarget } from 'typeorm';

/**
 * Column types whose values node-postgres already hands over as TypeORM would hydrate them
 * (TypeORM's `prepareHydratedValue` leaves them alone when there is no transformer).
 */
const AS_READ = new Set<unknown>([
  'text',
  'uuid',
  'character',
  'char',
  'character varying',
  'varchar',
  'integer',
  'int',
  'smallint',
  'bigint',
  'numeric',
  'double precision',
  'real',
  'boolean',
  'jsonb',
  'json',
  'timestamp with time zone',
  'timestamptz',
]);

interface ColumnReader {
  readonly alias: string;
  readonly property: string;
  readonly read: ((raw: unknown) => unknown) | null;
  readonly assign: ((entity: object, value: unknown) => void) | null;
}

/**
 * Hand-written joins over TypeORM entities without the query builder: the select list of an
 * entity's columns under an alias, and the entity's properties back from the raw rows, each
 * value converted as TypeORM converts it (`prepareHydratedValue`, transformers included). The
 * select list follows the entity's metadata, so a column added to an entity is read here too.
 */
export class EntityColumns<T> {
  /** `"alias"."column" AS "prefix.property", ...`. */
  readonly select: string;
  /** `"schema"."table"`. */
  readonly table: string;
  private readonly readers: readonly ColumnReader[];
  private readonly primaryAlias: string | undefined;

  /** `omit`: properties left out of the select list (and so of the hydrated entity). */
  constructor(
    manager: EntityManager,
    entity: EntityTarget<unknown>,
    prefix: string,
    omit: readonly string[] = [],
  ) {
    const metadata = manager.connection.getMetadata(entity);
    const driver = manager.connection.driver;
    this.table = metadata.schema
      ? `${driver.escape(metadata.schema)}.${driver.escape(metadata.tableName)}`
      : driver.escape(metadata.tableName);
    const unknown = omit.filter((name) => !metadata.columns.some((c) => c.propertyPath === name));
    if (unknown.length > 0) {
      throw new Error(`${metadata.name} has no column ${unknown.join(', ')} to leave out`);
    }
    const columns = metadata.columns.filter((column) => !omit.includes(column.propertyPath));
    this.select = columns
      .map(
        (column) =>
          `${driver.escape(prefix)}.${driver.escape(column.databaseName)} AS ${driver.escape(`${prefix}.${column.propertyPath}`)}`,
      )
      .join(', ');
    this.readers = columns.map((column) => ({
      alias: `${prefix}.${column.propertyPath}`,
      property: column.propertyName,
      read:
        column.transformer === undefined && !column.isArray && AS_READ.has(column.type)
          ? null
          : (raw: unknown) => driver.prepareHydratedValue(raw, column) as unknown,
      assign: column.embeddedMetadata
        ? (target: object, value: unknown) => column.setEntityValue(target, value)
        : null,
    }));
    const primary = metadata.primaryColumns[0];
    this.primaryAlias = primary ? `${prefix}.${primary.propertyPath}` : undefined;
  }

  /** The entity from a row of {@link select}; `null` when its primary key is null (no match). */
  hydrate(row: Readonly<Record<string, unknown>>): T | null {
    if (this.primaryAlias !== undefined) {
      const key = row[this.primaryAlias];
      if (key === null || key === undefined) return null;
    }
    const entity: Record<string, unknown> = {};
    for (const reader of this.readers) {
      const raw = row[reader.alias];
      const value = reader.read === null ? raw : reader.read(raw);
      if (reader.assign === null) entity[reader.property] = value;
      else reader.assign(entity, value);
    }
    return entity as T;
  }
}

const cache = new WeakMap<EntityManager, Map<string, EntityColumns<unknown>>>();

/** {@link EntityColumns} of `entity` under `prefix` (less `omit`), built once per manager. */
export function entityColumns<T, K extends keyof T & string = never>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  prefix: string,
  omit: readonly K[] = [],
): EntityColumns<Omit<T, K>> {
  // Managers of transactions are short-lived; key their columns by the connection's manager.
  const owner = manager.connection.manager;
  let byEntity = cache.get(owner);
  if (!byEntity) {
    byEntity = new Map();
    cache.set(owner, byEntity);
  }
  const key = `${manager.connection.getMetadata(entity).name}:${prefix}:${omit.join(',')}`;
  let columns = byEntity.get(key) as EntityColumns<Omit<T, K>> | undefined;
  if (!columns) {
    columns = new EntityColumns<Omit<T, K>>(owner, entity, prefix, omit);
    byEntity.set(key, columns);
  }
  return columns;
}
