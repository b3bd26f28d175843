import { createMessagingDataSource } from '@stratavore/messaging';
import { revertLastMigration, runMigrations } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { SessionDatabase, sessionDataSource } from './session-database';

const RUNNER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const HASH = 'a'.repeat(64);

describe('session schema and database on PostgreSQL', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('session_database');
    const messaging = createMessagingDataSource({ url: db.url, poolSize: 1 });
    await messaging.initialize();
    await runMigrations(messaging);
    await messaging.destroy();
  });
  afterAll(() => db?.drop());

  it('migrates up, down and up again', async () => {
    const dataSource = sessionDataSource(db.url, { poolSize: 1 });
    await dataSource.initialize();
    try {
      expect(await runMigrations(dataSource)).toEqual(['SessionSchema1764500000000']);
      await revertLastMigration(dataSource);
      const left = await dataSource.query<Array<{ relname: string }>>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'session' AND c.relname NOT LIKE 'migrations%' AND c.relname NOT LIKE 'PK_%'`,
      );
      expect(left).toEqual([]);
      expect(await runMigrations(dataSource)).toEqual(['SessionSchema1764500000000']);
    } finally {
      await dataSource.destroy();
    }
  });

  it('keeps runners whatever order their launch and end arrive in, once per event', async () => {
    const database = await SessionDatabase.open(db.url, { poolSize: 2 });
    try {
      const endedAt = new Date('2026-01-01T00:01:00.000Z');
      expect(
        await database.runOnce('test', '00000000-0000-4000-8000-000000000001', (w) =>
          w.markRunnerEnded({
            runnerId: RUNNER,
            projectId: PROJECT,
            state: 'completed',
            endedAt,
            failureReason: null,
            exitCode: 0,
          }),
        ),
      ).toBe('processed');
      await database.runOnce('test', '00000000-0000-4000-8000-000000000002', (w) =>
        w.registerRunner({
          runnerId: RUNNER,
          projectId: PROJECT,
          tokenHash: HASH,
          launchedAt: new Date('2026-01-01T00:00:00.000Z'),
        }),
      );
      expect(
        await database.runOnce('test', '00000000-0000-4000-8000-000000000002', () =>
          Promise.reject(new Error('a duplicate must not run')),
        ),
      ).toBe('duplicate');
      expect(await database.findTokenOwner(HASH)).toEqual({
        runnerId: RUNNER,
        projectId: PROJECT,
        endedAt,
      });
      const stats = await database.runnerOutcomes('2026-01-01', '2026-01-01', PROJECT);
      expect(stats.map((s) => [s.projectId, s.completed, s.durationMs?.max])).toEqual([
        [null, 1, 60_000],
        [PROJECT, 1, 60_000],
      ]);
    } finally {
      await database.close();
    }
  });
});
