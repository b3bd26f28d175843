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

  async function worktreeColumns(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ name: string }>>(
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
       WHERE table_schema = 'runner' AND table_name IN ('runners', 'queued_launches')
         AND column_name IN ('worktree_id', 'worktree_path', 'worktree_branch',
           'worktree_base_commit', 'new_worktree')
       ORDER BY name`,
    );
    return rows.map((row) => row.name);
  }

  async function activityColumns(): Promise<string[]> {
    const rows = await dataSource.query<Array<{ name: string }>>(
      `SELECT column_name AS name FROM information_schema.columns
       WHERE table_schema = 'runner' AND table_name = 'runners'
         AND column_name IN ('activity', 'attached')
       ORDER BY name`,
    );
    return rows.map((row) => row.name);
  }

  it('goes up, down and up again', async () => {
    expect(await runMigrations(dataSource)).toEqual([
      'RunnerManagerSchema1764100000000',
      'RunnerLaunchEstimates1764400000000',
      'RunnerRestarts1764610000000',
      'RunnerWorktrees1764700000000',
      'RunnerActivity1764710000000',
    ]);
    expect(await activityColumns()).toEqual(['activity', 'attached']);
    await revertLastMigration(dataSource);
    expect(await activityColumns()).toEqual([]);
    expect(await tables()).toEqual([
      'planned_restarts',
      'projects',
      'queued_launches',
      'runners',
      'worktrees',
    ]);
    expect(await worktreeColumns()).toHaveLength(6);
    await revertLastMigration(dataSource);
    expect(await worktreeColumns()).toEqual([]);
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
      'RunnerWorktrees1764700000000',
      'RunnerActivity1764710000000',
    ]);
    expect(await tables()).toEqual([
      'planned_restarts',
      'projects',
      'queued_launches',
      'runners',
      'worktrees',
    ]);
  });

  it('takes waiting and idle runners as states that hold a slot', async () => {
    await dataSource.query(
      `INSERT INTO runner.projects (id, name, path, command, max_runners, created_at, updated_at)
       VALUES ('00000000-0000-4000-8000-0000000000b1', 'hooks', '/p', '{claude}', 2, now(), now())`,
    );
    const insert = (id: string, state: string) =>
      dataSource.query(
        `INSERT INTO runner.runners (id, project_id, state, mode, command, token_hash, created_at, updated_at)
         VALUES ($1, '00000000-0000-4000-8000-0000000000b1', $2, 'interactive', '{claude}', $3, now(), now())`,
        [id, state, id.replace(/-/g, '').padEnd(64, '0')],
      );
    await insert('00000000-0000-4000-8000-0000000000c1', 'waiting');
    await insert('00000000-0000-4000-8000-0000000000c2', 'idle');
    await expect(insert('00000000-0000-4000-8000-0000000000c3', 'asleep')).rejects.toThrow(
      /ck_runners_state/,
    );
    const [row] = await dataSource.query<Array<{ attached: boolean; activity: unknown }>>(
      `SELECT attached, activity FROM runner.runners WHERE id = '00000000-0000-4000-8000-0000000000c1'`,
    );
    expect(row).toEqual({ attached: false, activity: null });
    const [index] = await dataSource.query<Array<{ indexdef: string }>>(
      `SELECT indexdef FROM pg_indexes
       WHERE schemaname = 'runner' AND indexname = 'ix_runners_project_active'`,
    );
    expect(index?.indexdef).toMatch(/'waiting'.*'idle'/);
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
