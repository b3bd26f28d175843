import { randomUUID } from 'node:crypto';

import { revertLastMigration, runMigrations } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';
import { type DataSource } from 'typeorm';

import { budgetDataSource } from './budget-store';

describe('budget schema migration', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('budget_schema');
    dataSource = budgetDataSource(db.url, { poolSize: 2 });
    await dataSource.initialize();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  async function tables(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ table_name: string }>>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'budget' AND table_name <> 'migrations' ORDER BY table_name`,
    );
    return rows.map((row) => row.table_name);
  }

  const first = ['budgets', 'ledger', 'periods', 'reservations', 'threshold_firings'];
  const all = [
    'budgets',
    'ledger',
    'periods',
    'reservations',
    'runner_overruns',
    'threshold_firings',
  ];
  const migrations = ['BudgetSchema1764500000000', 'BudgetRunnerOverruns1764800000000'];

  it('goes up, down and up again', async () => {
    expect(await runMigrations(dataSource)).toEqual(migrations);
    expect(await tables()).toEqual(all);
    await revertLastMigration(dataSource);
    expect(await tables()).toEqual(first);
    await revertLastMigration(dataSource);
    expect(await tables()).toEqual([]);
    expect(await runMigrations(dataSource)).toEqual(migrations);
    expect(await tables()).toEqual(all);
  });

  async function insertBudget(scopeKey: string): Promise<string> {
    const id = randomUUID();
    await dataSource.query(
      `INSERT INTO budget.budgets (id, scope_key, scope, limit_tokens, token_kinds, period,
         time_zone, week_starts_on, month_day, time_of_day, warn_thresholds, rollover_enabled,
         enforcement, created_at, updated_at)
       VALUES ($1, $2, '{"kind":"global"}', 100, '{input}', 'daily', 'UTC', 1, 1, '00:00',
         '{0.5}', false, 'hard', now(), now())`,
      [id, scopeKey],
    );
    return id;
  }

  async function insertPeriod(budgetId: string, start: string, closed: boolean): Promise<string> {
    const id = randomUUID();
    await dataSource.query(
      `INSERT INTO budget.periods (id, budget_id, starts_at, ends_at, closed_at)
       VALUES ($1, $2, $3, $3::timestamptz + interval '1 day', $4)`,
      [id, budgetId, start, closed ? new Date() : null],
    );
    return id;
  }

  it('keeps one budget per scope, one open period per budget, and limits sane', async () => {
    const budgetId = await insertBudget('scope-a');
    await expect(insertBudget('scope-a')).rejects.toThrow(/uq_budgets_scope_key/);
    await insertPeriod(budgetId, '2026-01-01T00:00:00Z', true);
    await insertPeriod(budgetId, '2026-01-02T00:00:00Z', false);
    await expect(insertPeriod(budgetId, '2026-01-03T00:00:00Z', false)).rejects.toThrow(
      /uq_periods_open/,
    );
    await expect(
      dataSource.query(
        `UPDATE budget.budgets SET limit_tokens = NULL, limit_usd_micros = NULL WHERE id = $1`,
        [budgetId],
      ),
    ).rejects.toThrow(/ck_budgets_limits/);
  });

  it('books a ledger event once and fires a threshold once per period', async () => {
    const eventId = randomUUID();
    const book = () =>
      dataSource.query<unknown[]>(
        `INSERT INTO budget.ledger (event_id, runner_id, project_id, input_tokens, output_tokens,
           cache_creation_tokens, cache_read_tokens, observed_at, booked_at)
         VALUES ($1, $2, $2, 1, 2, 3, 4, now(), now())
         ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
        [eventId, randomUUID()],
      );
    expect(await book()).toHaveLength(1);
    expect(await book()).toHaveLength(0);

    const budgetId = await insertBudget('scope-b');
    const periodId = await insertPeriod(budgetId, '2026-01-01T00:00:00Z', false);
    const fire = () =>
      dataSource.query(
        `INSERT INTO budget.threshold_firings (budget_id, period_id, threshold, event_id, fired_at)
         VALUES ($1, $2, 0.8, $3, now())`,
        [budgetId, periodId, randomUUID()],
      );
    await fire();
    await expect(fire()).rejects.toThrow(/pk_threshold_firings/);
    // Removing the budget takes its periods and firings along.
    await dataSource.query(`DELETE FROM budget.budgets WHERE id = $1`, [budgetId]);
    const [{ n }] = await dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM budget.threshold_firings WHERE budget_id = $1`,
      [budgetId],
    );
    expect(n).toBe(0);
  });

  it('records an overrun once per runner per budget period, and drops it with the period', async () => {
    const budgetId = await insertBudget('scope-c');
    const periodId = await insertPeriod(budgetId, '2026-01-01T00:00:00Z', false);
    const runnerId = randomUUID();
    const overrun = () =>
      dataSource.query(
        `INSERT INTO budget.runner_overruns (budget_id, period_id, runner_id, event_id, fired_at)
         VALUES ($1, $2, $3, $4, now())`,
        [budgetId, periodId, runnerId, randomUUID()],
      );
    await overrun();
    await expect(overrun()).rejects.toThrow(/pk_runner_overruns/);
    await dataSource.query(`DELETE FROM budget.periods WHERE id = $1`, [periodId]);
    const [{ n }] = await dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM budget.runner_overruns WHERE budget_id = $1`,
      [budgetId],
    );
    expect(n).toBe(0);
  });
});
