import { randomUUID } from 'node:crypto';

import { waitFor } from '@stratavore/testing';
import { Client } from 'pg';
import { type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

import { advisoryLockKey } from './advisory-key';
import { createDataSource } from './data-source';
import { AdvisoryLeadership } from './leadership';
import { revertLastMigration, runMigrations } from './migrations';
import { databaseReadinessCheck } from './readiness';
import { tryAdvisoryLock } from './session-lock';
import { advisoryXactLock, withTransaction } from './transactions';

const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminQuery(sql: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function urlFor(database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  await waitFor(condition, { timeoutMs, intervalMs: 20 });
}

// Slow on purpose: the second migrator must be waiting on the lock while the first runs.
class CreateWidgets1700000000001 implements MigrationInterface {
  name = 'CreateWidgets1700000000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query('CREATE TABLE widget (id int PRIMARY KEY)');
    await queryRunner.query('INSERT INTO widget (id) VALUES (1)');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widget');
  }
}

class AddWidgetName1700000000002 implements MigrationInterface {
  name = 'AddWidgetName1700000000002';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE widget ADD COLUMN name text NOT NULL DEFAULT 'w'`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE widget DROP COLUMN name');
  }
}

describe('persistence against PostgreSQL', () => {
  const database = `t_persistence_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = urlFor(database);
  const opened: DataSource[] = [];

  async function open(schema: string, poolSize = 4): Promise<DataSource> {
    const dataSource = createDataSource({
      url,
      schema,
      poolSize,
      applicationName: 'persistence-int-spec',
      migrations: [CreateWidgets1700000000001, AddWidgetName1700000000002],
    });
    await dataSource.initialize();
    opened.push(dataSource);
    return dataSource;
  }

  beforeAll(() => adminQuery(`CREATE DATABASE ${database}`));
  afterAll(async () => {
    await Promise.all(opened.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('migrates once when two processes start at the same moment, then reverts step by step', async () => {
    const [first, second] = await Promise.all([open('svc_a', 1), open('svc_a', 1)]);
    const ran = await Promise.all([runMigrations(first), runMigrations(second)]);

    expect(ran.map((names) => names.length).sort()).toEqual([0, 2]);
    expect(await first.query('SELECT id, name FROM svc_a.widget')).toEqual([{ id: 1, name: 'w' }]);
    const recorded = await first.query<Array<{ name: string }>>(
      'SELECT name FROM svc_a.migrations ORDER BY id',
    );
    expect(recorded.map((row) => row.name)).toEqual([
      'CreateWidgets1700000000001',
      'AddWidgetName1700000000002',
    ]);

    await revertLastMigration(first);
    expect(
      await first.query(`SELECT column_name FROM information_schema.columns
        WHERE table_schema = 'svc_a' AND table_name = 'widget'`),
    ).toEqual([{ column_name: 'id' }]);
    await revertLastMigration(first);
    expect(await first.query(`SELECT to_regclass('svc_a.widget') AS t`)).toEqual([{ t: null }]);
    expect(await runMigrations(second)).toHaveLength(2);
  });

  it('holds the migration lock on one connection and always gives it back', async () => {
    const dataSource = await open('svc_b');
    await runMigrations(dataSource);
    const held = await dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`,
    );
    expect(held[0]?.n).toBe(0);
  });

  it('serializes writers with a transaction advisory lock', async () => {
    const dataSource = await open('svc_c');
    await runMigrations(dataSource);
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstHasLock!: () => void;
    const firstLocked = new Promise<void>((resolve) => (firstHasLock = resolve));

    const first = withTransaction(dataSource, async (manager) => {
      await advisoryXactLock(manager, 'project:42');
      firstHasLock();
      await firstMayFinish;
      order.push('first');
    });
    await firstLocked;
    const second = withTransaction(dataSource, async (manager) => {
      await advisoryXactLock(manager, 'project:42');
      order.push('second');
    });
    const other = withTransaction(dataSource, async (manager) => {
      await advisoryXactLock(manager, 'project:43');
      order.push('other project');
    });
    await other;
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['other project', 'first', 'second']);
    await expect(advisoryXactLock(dataSource.manager, 'x')).rejects.toThrow(/inside a transaction/);
  });

  it('grants a session lock to one holder at a time', async () => {
    const dataSource = await open('svc_d');
    const mine = await tryAdvisoryLock(dataSource, 'relay');
    expect(mine).not.toBeNull();
    expect(await tryAdvisoryLock(dataSource, 'relay')).toBeNull();
    await mine?.release();
    const next = await tryAdvisoryLock(dataSource, 'relay');
    expect(next).not.toBeNull();
    await next?.release();
    expect(advisoryLockKey('relay')).toMatch(/^-?\d+$/);
  });

  it('elects one leader and re-elects after the leader loses its connection', async () => {
    const key = `leader-${randomUUID()}`;
    const events: string[] = [];
    const make = (name: string) =>
      new AdvisoryLeadership({
        url,
        key,
        intervalMs: 50,
        applicationName: `leadership-${name}`,
        onElected: () => events.push(`${name} elected`),
        onDemoted: () => events.push(`${name} demoted`),
      });
    const a = make('a');
    const b = make('b');
    a.start();
    await until(() => a.isLeader());
    b.start();
    const observer = await open('svc_e');
    // b has had several chances to take the lock and must not have it.
    await until(async () => {
      const rows = await observer.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'leadership-b'`,
      );
      return rows[0]?.n === 1;
    });
    expect(b.isLeader()).toBe(false);

    await observer.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'leadership-a'`,
    );
    await until(() => events.includes('a demoted'));
    await until(() => a.isLeader() || b.isLeader());
    expect(a.isLeader() && b.isLeader()).toBe(false);

    const leader = a.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    await leader.stop();
    await until(() => follower.isLeader());
    await follower.stop();
    expect(follower.isLeader()).toBe(false);
  });

  it('reports readiness with SELECT 1', async () => {
    const dataSource = await open('svc_f');
    const check = databaseReadinessCheck(dataSource);
    expect(check.name).toBe('database');
    await expect(check.check()).resolves.toBeUndefined();
    await dataSource.destroy();
    await expect(check.check()).rejects.toThrow(/not initialized/);
  });
});
