import {
  type Amounts,
  type Budget,
  type BudgetPeriodState,
  type ReleaseReason,
  type ReservationRecord,
} from '@stratavore/budget-service-domain';
import { type BudgetPeriod, type Enforcement, type TokenKind } from '@stratavore/contracts';
import { OutboxWriter } from '@stratavore/messaging';
import {
  advisoryXactLock,
  createDataSource,
  runMigrations,
  withTransaction,
} from '@stratavore/persistence';
import { type Pool, type PoolClient, type QueryConfig } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';

import { BUDGET_SCHEMA } from './budget-schema';
import {
  type BudgetReads,
  type BudgetTransaction,
  type BudgetUnitOfWork,
  type DuePeriod,
  scopeLockKey,
  type UsageDayRow,
} from './budget-store.types';
import { budgetEntities } from './entities';
import { BudgetSchema1764500000000 } from './migrations/1764500000000-budget-schema.migration';
import { BudgetRunnerOverruns1764800000000 } from './migrations/1764800000000-budget-runner-overruns.migration';

/** Migrations of the `budget` schema, oldest first. */
export const budgetMigrations = [BudgetSchema1764500000000, BudgetRunnerOverruns1764800000000];

export interface BudgetStoreOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** How long a query waits for a connection of the pool (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
}

/** A DataSource (not initialized) on schema `budget` with its entities and migrations. */
export function budgetDataSource(url: string, options: BudgetStoreOptions = {}): DataSource {
  return createDataSource({
    url,
    schema: BUDGET_SCHEMA,
    entities: budgetEntities,
    migrations: budgetMigrations,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'budget-service',
    connectTimeoutMs: options.connectTimeoutMs,
  });
}

/**
 * budget-service's storage: opens its pool, migrates the `budget` schema (under the migration
 * lock) and hands out units of work. The `messaging` schema must be migrated too (the service
 * runtime does it): events go to `messaging.outbox` in the same transactions.
 */
export class BudgetStore implements BudgetUnitOfWork {
  private constructor(private readonly dataSource: DataSource) {}

  static async open(url: string, options: BudgetStoreOptions = {}): Promise<BudgetStore> {
    const dataSource = budgetDataSource(url, options);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return new BudgetStore(dataSource);
  }

  transaction<T>(work: (tx: BudgetTransaction) => Promise<T>): Promise<T> {
    return withTransaction(this.dataSource, (manager) => work(transactionOn(manager)));
  }

  read<T>(work: (reads: BudgetReads) => Promise<T>): Promise<T> {
    return work(readsOn(this.dataSource.manager));
  }

  /** Pings the database (readiness). */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

// ---- rows ----------------------------------------------------------------------------------

const BUDGET_COLUMNS = `id, scope_key, scope, limit_tokens, limit_usd_micros, token_kinds, period,
  time_zone, week_starts_on, month_day, time_of_day, warn_thresholds, rollover_enabled,
  rollover_cap_tokens, rollover_cap_usd_micros, enforcement, created_at, updated_at`;

interface BudgetRow {
  id: string;
  scope_key: string;
  scope: Budget['scope'];
  limit_tokens: string | null;
  limit_usd_micros: string | null;
  token_kinds: string[];
  period: string;
  time_zone: string;
  week_starts_on: number;
  month_day: number;
  time_of_day: string;
  warn_thresholds: number[];
  rollover_enabled: boolean;
  rollover_cap_tokens: string | null;
  rollover_cap_usd_micros: string | null;
  enforcement: string;
  created_at: Date;
  updated_at: Date;
}

const PERIOD_COLUMNS = `id, budget_id, starts_at, ends_at, limit_tokens, limit_usd_micros,
  carry_tokens, carry_usd_micros, used_input, used_output, used_cache_creation, used_cache_read,
  used_usd_micros`;

interface PeriodRow {
  id: string;
  budget_id: string;
  starts_at: Date;
  ends_at: Date | null;
  limit_tokens: string | null;
  limit_usd_micros: string | null;
  carry_tokens: string;
  carry_usd_micros: string;
  used_input: string;
  used_output: string;
  used_cache_creation: string;
  used_cache_read: string;
  used_usd_micros: string;
}

/** `alias.column AS prefix_column, ...` of a column list above. */
function aliased(columns: string, alias: string, prefix = ''): string {
  return columns
    .split(',')
    .map((column) => column.trim())
    .map((column) => `${alias}.${column} AS ${prefix}${column}`)
    .join(', ');
}

const PERIOD_COLUMN_NAMES = PERIOD_COLUMNS.split(',').map((column) => column.trim());

/** A {@link PeriodRow} from a row holding its columns under `p_`. */
function periodRowOf(row: Record<string, unknown>): PeriodRow {
  const out: Record<string, unknown> = {};
  for (const column of PERIOD_COLUMN_NAMES) out[column] = row[`p_${column}`];
  return out as unknown as PeriodRow;
}

/**
 * The standings of `count` scopes: `$1` is the moment, `$2 ..` the scope keys, one parameter
 * each (`IN ($2, $3)` rather than `= ANY($2::text[])`). With one parameter per key PostgreSQL
 * estimates the generic plan of the prepared statement as well as a custom one and keeps it
 * after five executions, so the statement is planned once per connection; with an array of
 * unknown length it estimated ten rows and planned every execution again (0.3 ms of its CPU
 * for a query that runs in 0.1 ms).
 */
function standingsSql(count: number): string {
  const keys = Array.from({ length: count }, (_, i) => `$${i + 2}`).join(', ');
  return `
  SELECT ${aliased(BUDGET_COLUMNS, 'b')}, ${aliased(PERIOD_COLUMNS, 'p', 'p_')},
         coalesce(r.tokens, 0) AS reserved_tokens, coalesce(r.usd_micros, 0) AS reserved_usd_micros,
         coalesce(f.thresholds, '{}') AS fired
  FROM budget.budgets b
  LEFT JOIN budget.periods p ON p.budget_id = b.id AND p.closed_at IS NULL
  LEFT JOIN LATERAL (
    SELECT sum(remaining_tokens) AS tokens, sum(remaining_usd_micros) AS usd_micros
    FROM budget.reservations
    WHERE budget_id = b.id AND released_at IS NULL AND expires_at > $1
  ) r ON true
  LEFT JOIN LATERAL (
    SELECT array_agg(threshold ORDER BY threshold) AS thresholds
    FROM budget.threshold_firings WHERE budget_id = b.id AND period_id = p.id
  ) f ON true
  WHERE b.scope_key IN (${keys})
  ORDER BY b.scope_key`;
}

/** {@link standingsSql} by number of scopes (a check asks for two: global and the project). */
const standingsStatements = new Map<number, { name: string; text: string }>();

function standingsStatement(count: number): { name: string; text: string } {
  let statement = standingsStatements.get(count);
  if (!statement) {
    statement = { name: `budget_standings_${count}`, text: standingsSql(count) };
    standingsStatements.set(count, statement);
  }
  return statement;
}

/**
 * Runs `text` as a named (prepared) statement: PostgreSQL parses and plans it once per pooled
 * connection, then reuses the plan (see {@link standingsSql}). For hot reads only (the standings
 * of `budgets.check`), where planning the joins cost three times what executing them does.
 * Outside a transaction it borrows a connection from TypeORM's pool (`driver.master`, the `pg`
 * pool `manager.query` uses too); inside one it runs on the transaction's connection. Rows and
 * their types are the same as through `manager.query` (the same `pg` type parsers).
 */
async function preparedQuery<T>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const config: QueryConfig = { name, text, values };
  if (manager.queryRunner) {
    const client = (await manager.queryRunner.connect()) as PoolClient;
    return (await client.query(config)).rows as T[];
  }
  const pool = (manager.connection.driver as unknown as { master: Pool }).master;
  return (await pool.query(config)).rows as T[];
}

/** A budget's columns with its period's under `p_` (see {@link periodRowOf}). */
type BudgetPeriodRow = BudgetRow & Record<string, unknown> & { p_id: string | null };

type StandingRow = BudgetPeriodRow & {
  reserved_tokens: string;
  reserved_usd_micros: string;
  fired: Array<string | number>;
};

const RESERVATION_COLUMNS = `reservation_id, budget_id, runner_id, project_id, estimate_tokens,
  estimate_usd_micros, remaining_tokens, remaining_usd_micros, ttl_ms, created_at, expires_at,
  released_at, release_reason`;

interface ReservationRow {
  reservation_id: string;
  budget_id: string;
  runner_id: string;
  project_id: string;
  estimate_tokens: string;
  estimate_usd_micros: string;
  remaining_tokens: string;
  remaining_usd_micros: string;
  ttl_ms: number;
  created_at: Date;
  expires_at: Date;
  released_at: Date | null;
  release_reason: string | null;
}

const num = (value: string | number): number => Number(value);
const numOrNull = (value: string | null): number | null => (value === null ? null : Number(value));

function toBudget(row: BudgetRow): Budget {
  return {
    id: row.id,
    scope: row.scope,
    limits: { tokens: numOrNull(row.limit_tokens), usdMicros: numOrNull(row.limit_usd_micros) },
    tokenKinds: row.token_kinds as TokenKind[],
    period: row.period as BudgetPeriod,
    timeZone: row.time_zone,
    anchor: {
      weekStartsOn: row.week_starts_on,
      monthDay: row.month_day,
      timeOfDay: row.time_of_day,
    },
    warnThresholds: row.warn_thresholds.map(Number),
    rollover: {
      enabled: row.rollover_enabled,
      capTokens: numOrNull(row.rollover_cap_tokens),
      capUsdMicros: numOrNull(row.rollover_cap_usd_micros),
    },
    enforcement: row.enforcement as Enforcement,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function budgetParams(budget: Budget, scopeKey: string): unknown[] {
  return [
    budget.id,
    scopeKey,
    JSON.stringify(budget.scope),
    budget.limits.tokens,
    budget.limits.usdMicros,
    [...budget.tokenKinds],
    budget.period,
    budget.timeZone,
    budget.anchor.weekStartsOn,
    budget.anchor.monthDay,
    budget.anchor.timeOfDay,
    [...budget.warnThresholds],
    budget.rollover.enabled,
    budget.rollover.capTokens,
    budget.rollover.capUsdMicros,
    budget.enforcement,
    budget.createdAt,
    budget.updatedAt,
  ];
}

function toPeriod(row: PeriodRow): BudgetPeriodState {
  return {
    id: row.id,
    budgetId: row.budget_id,
    start: row.starts_at,
    end: row.ends_at,
    limits: { tokens: numOrNull(row.limit_tokens), usdMicros: numOrNull(row.limit_usd_micros) },
    carryOver: { tokens: num(row.carry_tokens), usdMicros: num(row.carry_usd_micros) },
    used: {
      input: num(row.used_input),
      output: num(row.used_output),
      cacheCreation: num(row.used_cache_creation),
      cacheRead: num(row.used_cache_read),
      usdMicros: num(row.used_usd_micros),
    },
  };
}

function toReservation(row: ReservationRow): ReservationRecord {
  return {
    reservationId: row.reservation_id,
    budgetId: row.budget_id,
    runnerId: row.runner_id,
    projectId: row.project_id,
    estimate: { tokens: num(row.estimate_tokens), usdMicros: num(row.estimate_usd_micros) },
    remaining: { tokens: num(row.remaining_tokens), usdMicros: num(row.remaining_usd_micros) },
    ttlMs: row.ttl_ms,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    releasedAt: row.released_at,
    releaseReason: row.release_reason as ReleaseReason | null,
  };
}

/** The scope key the store keeps beside the scope (for its unique index). */
function scopeKeyOf(budget: Budget): string {
  return budget.scope.kind === 'global' ? 'global' : `project:${budget.scope.projectId}`;
}

// ---- reads ---------------------------------------------------------------------------------

function readsOn(manager: EntityManager): BudgetReads {
  return {
    async listBudgets(filter = {}) {
      const rows =
        filter.scopeKeys === undefined
          ? await manager.query<BudgetRow[]>(
              `SELECT ${BUDGET_COLUMNS} FROM budget.budgets ORDER BY scope_key`,
            )
          : await manager.query<BudgetRow[]>(
              `SELECT ${BUDGET_COLUMNS} FROM budget.budgets WHERE scope_key = ANY($1::text[])
               ORDER BY scope_key`,
              [filter.scopeKeys],
            );
      return rows.map(toBudget);
    },

    async findBudgetById(id) {
      const rows = await manager.query<BudgetRow[]>(
        `SELECT ${BUDGET_COLUMNS} FROM budget.budgets WHERE id = $1`,
        [id],
      );
      return rows[0] ? toBudget(rows[0]) : null;
    },

    async findBudgetByScopeKey(scopeKey) {
      const rows = await manager.query<BudgetRow[]>(
        `SELECT ${BUDGET_COLUMNS} FROM budget.budgets WHERE scope_key = $1`,
        [scopeKey],
      );
      return rows[0] ? toBudget(rows[0]) : null;
    },

    async openPeriods(budgetIds) {
      if (budgetIds.length === 0) return new Map();
      const rows = await manager.query<PeriodRow[]>(
        `SELECT ${PERIOD_COLUMNS} FROM budget.periods
         WHERE budget_id = ANY($1::uuid[]) AND closed_at IS NULL`,
        [budgetIds],
      );
      return new Map(rows.map((row) => [row.budget_id, toPeriod(row)]));
    },

    async budgetsWithOpenPeriods() {
      const rows = await manager.query<BudgetPeriodRow[]>(
        `SELECT ${aliased(BUDGET_COLUMNS, 'b')}, ${aliased(PERIOD_COLUMNS, 'p', 'p_')}
         FROM budget.budgets b
         LEFT JOIN budget.periods p ON p.budget_id = b.id AND p.closed_at IS NULL
         ORDER BY b.scope_key`,
      );
      return rows.map((row) => ({
        budget: toBudget(row),
        period: row.p_id === null ? null : toPeriod(periodRowOf(row)),
      }));
    },

    async reservedIn(budgetIds, now) {
      const reserved = new Map<string, Amounts>(
        budgetIds.map((id) => [id, { tokens: 0, usdMicros: 0 }]),
      );
      if (budgetIds.length === 0) return reserved;
      const rows = await manager.query<
        Array<{ budget_id: string; tokens: string; usd_micros: string }>
      >(
        `SELECT budget_id, sum(remaining_tokens) AS tokens, sum(remaining_usd_micros) AS usd_micros
         FROM budget.reservations
         WHERE budget_id = ANY($1::uuid[]) AND released_at IS NULL AND expires_at > $2
         GROUP BY budget_id`,
        [budgetIds, now],
      );
      for (const row of rows) {
        reserved.set(row.budget_id, { tokens: num(row.tokens), usdMicros: num(row.usd_micros) });
      }
      return reserved;
    },

    async firedThresholds(periodIds) {
      const fired = new Map<string, number[]>(periodIds.map((id) => [id, []]));
      if (periodIds.length === 0) return fired;
      const rows = await manager.query<Array<{ period_id: string; threshold: number }>>(
        `SELECT period_id, threshold FROM budget.threshold_firings
         WHERE period_id = ANY($1::uuid[]) ORDER BY threshold`,
        [periodIds],
      );
      for (const row of rows) fired.get(row.period_id)?.push(Number(row.threshold));
      return fired;
    },

    async standings(scopeKeys, now) {
      if (scopeKeys.length === 0) return [];
      const { name, text } = standingsStatement(scopeKeys.length);
      const rows = await preparedQuery<StandingRow>(manager, name, text, [now, ...scopeKeys]);
      return rows.map((row) => ({
        budget: toBudget(row),
        period: row.p_id === null ? null : toPeriod(periodRowOf(row)),
        reserved: { tokens: num(row.reserved_tokens), usdMicros: num(row.reserved_usd_micros) },
        fired: row.fired.map(Number),
      }));
    },

    async duePeriods(now, limit) {
      const rows = await manager.query<Array<{ budget_id: string; ends_at: Date }>>(
        `SELECT budget_id, ends_at FROM budget.periods
         WHERE closed_at IS NULL AND ends_at IS NOT NULL AND ends_at <= $1
         ORDER BY ends_at LIMIT $2`,
        [now, limit],
      );
      return rows.map((row): DuePeriod => ({ budgetId: row.budget_id, endsAt: row.ends_at }));
    },

    async nextPeriodEnd() {
      const rows = await manager.query<Array<{ ends_at: Date | null }>>(
        `SELECT min(ends_at) AS ends_at FROM budget.periods
         WHERE closed_at IS NULL AND ends_at IS NOT NULL`,
      );
      return rows[0]?.ends_at ?? null;
    },

    async findReservation(reservationId) {
      const rows = await manager.query<ReservationRow[]>(
        `SELECT ${RESERVATION_COLUMNS} FROM budget.reservations WHERE reservation_id = $1
         ORDER BY budget_id`,
        [reservationId],
      );
      return rows.map(toReservation);
    },

    async findReservations(reservationIds) {
      if (reservationIds.length === 0) return [];
      const rows = await manager.query<ReservationRow[]>(
        `SELECT ${RESERVATION_COLUMNS} FROM budget.reservations
         WHERE reservation_id = ANY($1::uuid[]) ORDER BY reservation_id, budget_id`,
        [reservationIds],
      );
      return rows.map(toReservation);
    },

    async usageByDay({ from, to, timeZone, projectId }) {
      const rows = await manager.query<
        Array<{
          day: string;
          project_id: string;
          input: string;
          output: string;
          cache_creation: string;
          cache_read: string;
          usd_micros: string;
          events: number;
        }>
      >(
        `SELECT to_char(observed_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, project_id,
           sum(input_tokens) AS input, sum(output_tokens) AS output,
           sum(cache_creation_tokens) AS cache_creation, sum(cache_read_tokens) AS cache_read,
           coalesce(sum(usd_micros), 0) AS usd_micros, count(*)::int AS events
         FROM budget.ledger
         WHERE observed_at >= $1 AND observed_at < $2 AND ($4::uuid IS NULL OR project_id = $4)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [from, to, timeZone, projectId ?? null],
      );
      return rows.map((row): UsageDayRow => ({
        day: row.day,
        projectId: row.project_id,
        usage: {
          input: num(row.input),
          output: num(row.output),
          cacheCreation: num(row.cache_creation),
          cacheRead: num(row.cache_read),
          usdMicros: num(row.usd_micros),
        },
        events: row.events,
      }));
    },
  };
}

// ---- transactions --------------------------------------------------------------------------

/** Runs an `INSERT ... ON CONFLICT DO NOTHING RETURNING 1`; true when it inserted the row. */
async function insertsOnce(manager: EntityManager, sql: string, params: unknown[]) {
  const rows = await manager.query<unknown[]>(sql, params);
  return rows.length > 0;
}

function transactionOn(manager: EntityManager): BudgetTransaction {
  const outbox = new OutboxWriter();
  return {
    ...readsOn(manager),

    lockScope: (scopeKey) => advisoryXactLock(manager, scopeLockKey(scopeKey)),

    async lockBudgets(scopeKeys) {
      const rows = await manager.query<BudgetRow[]>(
        `SELECT ${BUDGET_COLUMNS} FROM budget.budgets WHERE scope_key = ANY($1::text[])
         ORDER BY id FOR UPDATE`,
        [scopeKeys],
      );
      return rows.map(toBudget);
    },

    async lockBudgetById(id) {
      const rows = await manager.query<BudgetRow[]>(
        `SELECT ${BUDGET_COLUMNS} FROM budget.budgets WHERE id = $1 FOR UPDATE`,
        [id],
      );
      return rows[0] ? toBudget(rows[0]) : null;
    },

    async insertBudget(budget) {
      await manager.query(
        `INSERT INTO budget.budgets (${BUDGET_COLUMNS})
         VALUES ($1, $2, $3::jsonb, $4, $5, $6::text[], $7, $8, $9, $10, $11,
                 $12::double precision[], $13, $14, $15, $16, $17, $18)`,
        budgetParams(budget, scopeKeyOf(budget)),
      );
    },

    async updateBudget(budget) {
      await manager.query(
        `UPDATE budget.budgets SET scope_key = $2, scope = $3::jsonb, limit_tokens = $4,
           limit_usd_micros = $5, token_kinds = $6::text[], period = $7, time_zone = $8,
           week_starts_on = $9, month_day = $10, time_of_day = $11,
           warn_thresholds = $12::double precision[], rollover_enabled = $13,
           rollover_cap_tokens = $14, rollover_cap_usd_micros = $15, enforcement = $16,
           created_at = $17, updated_at = $18
         WHERE id = $1`,
        budgetParams(budget, scopeKeyOf(budget)),
      );
    },

    async deleteBudget(id) {
      await manager.query(`DELETE FROM budget.budgets WHERE id = $1`, [id]);
    },

    async openPeriod(budgetId) {
      const rows = await manager.query<PeriodRow[]>(
        `SELECT ${PERIOD_COLUMNS} FROM budget.periods WHERE budget_id = $1 AND closed_at IS NULL`,
        [budgetId],
      );
      return rows[0] ? toPeriod(rows[0]) : null;
    },

    async periodContaining(budgetId, at) {
      const rows = await manager.query<PeriodRow[]>(
        `SELECT ${PERIOD_COLUMNS} FROM budget.periods
         WHERE budget_id = $1 AND starts_at <= $2 AND (ends_at IS NULL OR ends_at > $2)
         ORDER BY starts_at DESC LIMIT 1`,
        [budgetId, at],
      );
      return rows[0] ? toPeriod(rows[0]) : null;
    },

    async periodsAfter(budgetId, start) {
      const rows = await manager.query<PeriodRow[]>(
        `SELECT ${PERIOD_COLUMNS} FROM budget.periods WHERE budget_id = $1 AND starts_at > $2
         ORDER BY starts_at`,
        [budgetId, start],
      );
      return rows.map(toPeriod);
    },

    async insertPeriod(period, { rebaselined }) {
      await manager.query(
        `INSERT INTO budget.periods (id, budget_id, starts_at, ends_at, limit_tokens,
           limit_usd_micros, carry_tokens, carry_usd_micros, used_input, used_output,
           used_cache_creation, used_cache_read, used_usd_micros, rebaselined)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          period.id,
          period.budgetId,
          period.start,
          period.end,
          period.limits.tokens,
          period.limits.usdMicros,
          period.carryOver.tokens,
          period.carryOver.usdMicros,
          period.used.input,
          period.used.output,
          period.used.cacheCreation,
          period.used.cacheRead,
          period.used.usdMicros,
          rebaselined,
        ],
      );
    },

    async closePeriod(periodId, endsAt, closedAt) {
      await manager.query(
        `UPDATE budget.periods SET closed_at = $3, ends_at = coalesce($2, ends_at) WHERE id = $1`,
        [periodId, endsAt, closedAt],
      );
    },

    async addPeriodUsage(periodId, usage) {
      const rows = await manager.query<[PeriodRow[], number]>(
        `UPDATE budget.periods SET used_input = used_input + $2, used_output = used_output + $3,
           used_cache_creation = used_cache_creation + $4, used_cache_read = used_cache_read + $5,
           used_usd_micros = used_usd_micros + $6
         WHERE id = $1 RETURNING ${PERIOD_COLUMNS}`,
        [
          periodId,
          usage.input,
          usage.output,
          usage.cacheCreation,
          usage.cacheRead,
          usage.usdMicros,
        ],
      );
      const row = rows[0][0];
      if (!row) throw new Error(`period ${periodId} not found`);
      return toPeriod(row);
    },

    async setPeriodCarryOver(periodId, carryOver) {
      await manager.query(
        `UPDATE budget.periods SET carry_tokens = $2, carry_usd_micros = $3 WHERE id = $1`,
        [periodId, carryOver.tokens, carryOver.usdMicros],
      );
    },

    async setPeriodLimits(periodId, limits) {
      await manager.query(
        `UPDATE budget.periods SET limit_tokens = $2, limit_usd_micros = $3 WHERE id = $1`,
        [periodId, limits.tokens, limits.usdMicros],
      );
    },

    async insertReservations(records) {
      if (records.length === 0) return 0;
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO budget.reservations (${RESERVATION_COLUMNS})
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[],
           $6::bigint[], $7::bigint[], $8::bigint[], $9::int[], $10::timestamptz[],
           $11::timestamptz[], $12::timestamptz[], $13::text[])
         ON CONFLICT (reservation_id, budget_id) DO NOTHING RETURNING 1`,
        [
          records.map((r) => r.reservationId),
          records.map((r) => r.budgetId),
          records.map((r) => r.runnerId),
          records.map((r) => r.projectId),
          records.map((r) => r.estimate.tokens),
          records.map((r) => r.estimate.usdMicros),
          records.map((r) => r.remaining.tokens),
          records.map((r) => r.remaining.usdMicros),
          records.map((r) => r.ttlMs),
          records.map((r) => r.createdAt),
          records.map((r) => r.expiresAt),
          records.map((r) => r.releasedAt),
          records.map((r) => r.releaseReason),
        ],
      );
      return inserted.length;
    },

    async settleReservations(runnerId, budgetId, used, at, now) {
      await manager.query(
        `UPDATE budget.reservations
         SET remaining_tokens = greatest(0, remaining_tokens - $3),
             remaining_usd_micros = greatest(0, remaining_usd_micros - $4),
             expires_at = greatest(expires_at, $5::timestamptz + ttl_ms * interval '1 millisecond')
         WHERE runner_id = $1 AND budget_id = $2 AND released_at IS NULL AND expires_at > $6`,
        [runnerId, budgetId, used.tokens, used.usdMicros, at, now],
      );
    },

    async releaseReservations(by, now, reason) {
      const [column, value] =
        'reservationId' in by ? ['reservation_id', by.reservationId] : ['runner_id', by.runnerId];
      // Row locks in budget order, the order settlement takes them in: no deadlock between the two.
      const rows = await manager.query<[Array<{ budget_id: string }>, number]>(
        `UPDATE budget.reservations r SET released_at = $2, release_reason = $3
         FROM (SELECT reservation_id, budget_id FROM budget.reservations
               WHERE ${column} = $1 AND released_at IS NULL AND expires_at > $2
               ORDER BY budget_id FOR UPDATE) held
         WHERE r.reservation_id = held.reservation_id AND r.budget_id = held.budget_id
           AND r.released_at IS NULL
         RETURNING r.budget_id`,
        [value, now, reason],
      );
      return rows[0].map((row) => ({ budgetId: row.budget_id }));
    },

    async setPeriodEnd(periodId, end) {
      await manager.query(`UPDATE budget.periods SET ends_at = $2 WHERE id = $1`, [periodId, end]);
    },

    async expireReservations(now, limit) {
      const rows = await manager.query<[Array<{ budget_id: string }>, number]>(
        `UPDATE budget.reservations r SET released_at = r.expires_at, release_reason = 'expired'
         FROM (SELECT reservation_id, budget_id FROM budget.reservations
               WHERE released_at IS NULL AND expires_at <= $1
               ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
         WHERE r.reservation_id = due.reservation_id AND r.budget_id = due.budget_id
         RETURNING r.budget_id`,
        [now, limit],
      );
      return rows[0].map((row) => ({ budgetId: row.budget_id }));
    },

    async insertLedgerEntry(entry) {
      const rows = await manager.query<unknown[]>(
        `INSERT INTO budget.ledger (event_id, runner_id, project_id, session_id, model,
           input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, usd_micros,
           observed_at, booked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
        [
          entry.eventId,
          entry.runnerId,
          entry.projectId,
          entry.sessionId,
          entry.model,
          entry.usage.input,
          entry.usage.output,
          entry.usage.cacheCreation,
          entry.usage.cacheRead,
          entry.hasCost ? entry.usage.usdMicros : null,
          entry.observedAt,
          entry.bookedAt,
        ],
      );
      return rows.length > 0;
    },

    recordFiring: (budgetId, periodId, threshold, eventId, at) =>
      insertsOnce(
        manager,
        `INSERT INTO budget.threshold_firings (budget_id, period_id, threshold, event_id, fired_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (budget_id, period_id, threshold) DO NOTHING RETURNING 1`,
        [budgetId, periodId, threshold, eventId, at],
      ),

    recordOverrun: (budgetId, periodId, runnerId, eventId, at) =>
      insertsOnce(
        manager,
        `INSERT INTO budget.runner_overruns (budget_id, period_id, runner_id, event_id, fired_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (budget_id, period_id, runner_id) DO NOTHING RETURNING 1`,
        [budgetId, periodId, runnerId, eventId, at],
      ),

    async deleteOverruns(periodId) {
      await manager.query(`DELETE FROM budget.runner_overruns WHERE period_id = $1`, [periodId]);
    },

    async deleteFirings(periodId, thresholds) {
      if (thresholds.length === 0) return;
      await manager.query(
        `DELETE FROM budget.threshold_firings
         WHERE period_id = $1 AND threshold = ANY($2::double precision[])`,
        [periodId, thresholds],
      );
    },

    appendEvents: (envelopes) => outbox.append(manager, envelopes),

    async claimInbox(consumer, eventId) {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO messaging.inbox (consumer, event_id) VALUES ($1, $2)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING 1`,
        [consumer, eventId],
      );
      return inserted.length > 0;
    },
  };
}
