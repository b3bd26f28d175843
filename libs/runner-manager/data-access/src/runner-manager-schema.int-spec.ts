import { revertLastMigration, runMigrations } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';
import { type DataSource } from 'typeorm';

import { runnerManagerDataSource } from './runner-manager-store';

describe('runner schema migration', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('runner_schema');
    dataSource = runnerManagerDataSource(db.url, { poolSize: 2 });
    await dataSource.initialize();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  async function tables(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ table_name: string }>>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'runner' AND table_name <> 'migrations' ORDER BY table_name`,
    );
    return rows.map((row) => row.table_name);
  }

  async function estimateColumns(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ name: string }>>(
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
       WHERE table_schema = 'runner' AND column_name LIKE 'estimate_%' ORDER BY name`,
    );
    return rows.map((row) => row.name);
  }

  it('goes up, down and up again', async () => {
    expect(await runMigrations(dataSource)).toEqual([
      'RunnerManagerSchema1764100000000',
      'RunnerLaunchEstimates1764400000000',
      'RunnerRestarts1764610000000',
    ]);
    expect(await tables()).toEqual(['planned_restarts', 'projects', 'queued_launches', 'runners']);
    await revertLastMigration(dataSource);
    expect(await tables()).toEqual(['projects', 'queued_launches', 'runners']);
    expect(await estimateColumns()).toEqual([
      'projects.estimate_tokens',
      'projects.estimate_usd',
      'queued_launches.estimate_tokens',
      'queued_launches.estimate_usd',
    ]);
    await revertLastMigration(dataSource);
    expect(await estimateColumns()).toEqual([]);
    await revertLastMigration(dataSource);
    expect(await tables()).toEqual([]);
    expect(await runMigrations(dataSource)).toEqual([
      'RunnerManagerSchema1764100000000',
      'RunnerLaunchEstimates1764400000000',
      'RunnerRestarts1764610000000',
    ]);
    expect(await tables()).toEqual(['planned_restarts', 'projects', 'queued_launches', 'runners']);
  });

  it('keeps names unique among non-archived projects only', async () => {
    const insert = (id: string, archivedAt: string | null) =>
      dataSource.query(
        `INSERT INTO runner.projects (id, name, path, command, max_runners, created_at, updated_at, archived_at)
         VALUES ($1, 'same', '/p', '{claude}', 1, now(), now(), $2)`,
        [id, archivedAt],
      );
    await insert('00000000-0000-4000-8000-0000000000a1', '2026-01-01T00:00:00Z');
    await insert('00000000-0000-4000-8000-0000000000a2', null);
    await expect(insert('00000000-0000-4000-8000-0000000000a3', null)).rejects.toThrow(
      /uq_projects_name_active/,
    );
  });
});
