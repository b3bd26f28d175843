import { createMessagingDataSource } from '@stratavore/messaging';
import { revertLastMigration, runMigrations } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { heartbeatDataSource, HeartbeatStore } from './heartbeat-store';

const RUNNER = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';

describe('heartbeat schema and store on PostgreSQL', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_store');
    const messaging = createMessagingDataSource({ url: db.url, poolSize: 1 });
    await messaging.initialize();
    await runMigrations(messaging);
    await messaging.destroy();
  });
  afterAll(() => db?.drop());

  it('migrates up, down and up again', async () => {
    const dataSource = heartbeatDataSource(db.url, { poolSize: 1 });
    await dataSource.initialize();
    try {
      const all = ['HeartbeatSchema1764300000000', 'HeartbeatSessionProgress1764500000000'];
      expect(await runMigrations(dataSource)).toEqual(all);
      await revertLastMigration(dataSource);
      const columns = await dataSource.query<Array<{ column_name: string }>>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = 'heartbeat' AND table_name = 'runners' AND column_name LIKE '%cost%'`,
      );
      expect(columns).toEqual([]);
      expect(await runMigrations(dataSource)).toEqual(['HeartbeatSessionProgress1764500000000']);
      await revertLastMigration(dataSource);
      await revertLastMigration(dataSource);
      const left = await dataSource.query<Array<{ relname: string }>>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'heartbeat' AND c.relname NOT LIKE 'migrations%' AND c.relname NOT LIKE 'PK_%'`,
      );
      expect(left).toEqual([]);
      expect(await runMigrations(dataSource)).toEqual(all);
    } finally {
      await dataSource.destroy();
    }
  });

  it('registers once per event and keeps the registry current', async () => {
    const store = await HeartbeatStore.open(db.url, { poolSize: 2 });
    try {
      const registration = {
        runnerId: RUNNER,
        projectId: PROJECT,
        tokenHash: 'ab'.repeat(32),
        intervalMs: 5_000,
        registeredAt: new Date('2026-01-01T00:00:00.000Z'),
      };
      const eventId = '33333333-3333-4333-8333-333333333333';
      const inserted: boolean[] = [];
      const register = async (id: string) =>
        store.runOnce('t', id, async (r) => {
          inserted.push(await r.register(registration));
        });
      expect(await register(eventId)).toBe('processed');
      expect(await register(eventId)).toBe('duplicate');
      // Another event registering the same runner changes nothing.
      expect(await register('33333333-3333-4333-8333-555555555555')).toBe('processed');
      expect(inserted).toEqual([true, false]);
      expect(await store.findRunnerIdByTokenHash('ab'.repeat(32))).toBe(RUNNER);
      await store.runOnce('t', '33333333-3333-4333-8333-444444444444', async (r) => {
        expect(await r.setDesiredState(RUNNER, 'stop')).toBe(true);
        expect(await r.markEnded(PROJECT, new Date())).toBe(false);
      });
      expect(await store.findRunner(RUNNER)).toMatchObject({
        desiredState: 'stop',
        ended: false,
        intervalMs: 5_000,
        lastSeq: null,
      });
      expect(await store.listActiveRunners()).toEqual([
        expect.objectContaining({ runnerId: RUNNER, lastHeartbeatAt: null }),
      ]);
      const access = {
        runnerId: RUNNER,
        projectId: PROJECT,
        tokenHash: 'ab'.repeat(32),
        intervalMs: 5_000,
        desiredState: 'stop',
        ended: false,
      };
      expect(
        await store.findRunnerAccess([RUNNER, '33333333-3333-4333-8333-666666666666']),
      ).toEqual([access]);
      expect(await store.listActiveRunnerAccess()).toEqual([access]);
      await store.runOnce('t', '33333333-3333-4333-8333-777777777777', async (r) => {
        expect(await r.markEnded(RUNNER, new Date())).toBe(true);
      });
      expect(await store.listActiveRunnerAccess()).toEqual([]);
      expect(await store.findRunnerAccess([RUNNER])).toEqual([{ ...access, ended: true }]);
    } finally {
      await store.close();
    }
  });
});
