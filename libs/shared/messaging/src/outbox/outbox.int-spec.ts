import { randomUUID } from 'node:crypto';

import { type EventEnvelope } from '@stratavore/contracts';
import { revertLastMigration, runMigrations, withTransaction } from '@stratavore/persistence';
import { waitFor } from '@stratavore/testing';
import { Client } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';

import { Inbox } from '../inbox/inbox';
import { createMessagingDataSource, messagingMigrations } from './messaging-data-source';
import { type OutboxRecord } from './outbox.ports';
import { OutboxListener } from './outbox-listener';
import { OutboxWriter } from './outbox-writer';
import { PostgresOutboxStore } from './postgres-outbox-store';

const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  await waitFor(condition, { timeoutMs, intervalMs: 20 });
}

function envelope(subject: string, n = 0): EventEnvelope {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'int-spec',
    type: 'runner.launched',
    dataversion: 1,
    time: new Date().toISOString(),
    subject,
    correlationId: 'c-1',
    data: { n, quote: `it's "quoted" \\ {}` },
    signature: '0'.repeat(64),
  };
}

describe('messaging outbox and inbox on PostgreSQL', () => {
  const database = `t_outbox_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = (() => {
    const u = new URL(baseUrl);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  let dataSource: DataSource;
  const writer = new OutboxWriter();

  async function append(envelopes: EventEnvelope[]): Promise<void> {
    await withTransaction(dataSource, (manager) => writer.append(manager, envelopes));
  }

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database}`);
    dataSource = createMessagingDataSource({ url, poolSize: 8 });
    await dataSource.initialize();
    await runMigrations(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });
  beforeEach(() => dataSource.query('TRUNCATE messaging.outbox, messaging.inbox'));

  it('has a migration that matches the entities and reverts cleanly', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);

    for (let i = 0; i < messagingMigrations.length; i++) await revertLastMigration(dataSource);
    const left = await dataSource.query<Array<{ relname: string }>>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
       WHERE s.nspname = 'messaging' ORDER BY 1`,
    );
    // Only TypeORM's own migrations table (with its sequence and primary key) stays behind.
    expect(left.map((r) => r.relname).filter((name) => !/^(migrations|PK_)/.test(name))).toEqual(
      [],
    );
    const functions = await dataSource.query<unknown[]>(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname = 'messaging'`,
    );
    expect(functions).toEqual([]);
    expect(await runMigrations(dataSource)).toEqual(messagingMigrations.map((m) => m.name));
  });

  it('appends in the caller transaction and rolls back with it', async () => {
    const kept = [envelope('r1', 1), envelope('r1', 2)];
    await append(kept);
    await expect(
      withTransaction(dataSource, async (manager) => {
        await writer.append(manager, [envelope('r2')]);
        throw new Error('business rule refused');
      }),
    ).rejects.toThrow('business rule refused');
    await expect(writer.append(dataSource.manager, [envelope('r3')])).rejects.toThrow(
      /business transaction/,
    );

    const store = new PostgresOutboxStore(dataSource);
    const claimed = await store.claimBatch(10);
    expect(claimed.map((r) => JSON.parse(r.payload) as unknown)).toEqual(kept);
    expect(await store.backlog()).toBe(2);
  });

  it('notifies once per inserting statement, not once per row', async () => {
    let wakes = 0;
    const listener = new OutboxListener({ url, reconnectDelayMs: 50 });
    await listener.start(() => wakes++);
    expect(wakes).toBe(1); // the catch-up call after connecting
    await withTransaction(dataSource, async (manager) => {
      await writer.append(manager, [envelope('a'), envelope('b'), envelope('c')]);
      await writer.append(manager, [envelope('d')]);
    });
    await until(() => wakes >= 2);
    await append([envelope('e')]);
    await until(() => wakes >= 3);
    // A marker transaction on a different channel proves nothing else is queued for us.
    const marker = new Client({ connectionString: url });
    await marker.connect();
    let markerSeen = false;
    await marker.query('LISTEN int_spec_marker');
    marker.on('notification', () => (markerSeen = true));
    await marker.query(`NOTIFY int_spec_marker`);
    await until(() => markerSeen);
    await marker.end();
    expect(wakes).toBe(3);

    await dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'outbox-listener'`,
    );
    await until(() => wakes === 4 && listener.isListening());
    await append([envelope('f')]);
    await until(() => wakes === 5);
    await listener.stop();
  });

  it('never gives a row to two concurrent claimers', async () => {
    const total = 600;
    for (let i = 0; i < total; i += 100) {
      await append(Array.from({ length: 100 }, (_, k) => envelope(`s-${(i + k) % 300}`, i + k)));
    }
    const stores = [new PostgresOutboxStore(dataSource), new PostgresOutboxStore(dataSource)];
    const seen: string[] = [];
    await Promise.all(
      stores.map(async (store) => {
        for (;;) {
          const batch = await store.claimBatch(25);
          if (batch.length === 0) return;
          seen.push(...batch.map((r) => r.position));
          await store.markPublished(batch.map((r) => r.position));
        }
      }),
    );
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(await stores[0]!.backlog()).toBe(0);
  });

  it('keeps a subject in order through leases, retries and dead letters', async () => {
    await append([envelope('A', 1), envelope('B', 1), envelope('A', 2), envelope('A', 3)]);
    const store = new PostgresOutboxStore(dataSource, { leaseMs: 60_000 });
    const first = await store.claimBatch(10);
    const n = (r: OutboxRecord) => (JSON.parse(r.payload) as { data: { n: number } }).data.n;
    expect(first.map((r) => `${r.subject}${n(r)}`)).toEqual(['A1', 'B1', 'A2', 'A3']);
    expect(await store.claimBatch(10)).toEqual([]); // all leased

    const [a1, b1, a2, a3] = first;
    await store.markPublished([b1!.position]);
    await store.markFailed(a1!.position, 'nacked', new Date(Date.now() + 60_000));
    await store.release([a2!.position, a3!.position]);
    // A2 and A3 are due but wait behind A1, which is backing off.
    expect(await store.claimBatch(10)).toEqual([]);
    expect(await store.backlog()).toBe(3);

    await store.deadLetter(a1!.position, 'poison');
    const next = await store.claimBatch(10);
    expect(next.map((r) => r.position)).toEqual([a2!.position, a3!.position]);
    expect(await store.oldestUnpublishedAge()).toBeGreaterThanOrEqual(0);
    const dead = await dataSource.query<unknown[]>(
      `SELECT attempts, last_error, dead_lettered_at IS NOT NULL AS dead FROM messaging.outbox WHERE position = $1`,
      [a1!.position],
    );
    expect(dead).toEqual([{ attempts: 2, last_error: 'poison', dead: true }]);
  });

  it('makes rows claimable again when a lease expires', async () => {
    await append([envelope('L', 1)]);
    const crashed = new PostgresOutboxStore(dataSource, { leaseMs: 200 });
    const taken = await crashed.claimBatch(10);
    expect(taken).toHaveLength(1);
    const successor = new PostgresOutboxStore(dataSource);
    expect(await successor.claimBatch(10)).toEqual([]);
    let again: Awaited<ReturnType<PostgresOutboxStore['claimBatch']>> = [];
    await until(async () => (again = await successor.claimBatch(10)).length === 1);
    expect(again[0]?.eventId).toBe(taken[0]?.eventId);
  });

  it('lets a claimer take later rows of a subject it has in flight, never another claimer', async () => {
    await append([envelope('A', 1), envelope('B', 1)]);
    await append([envelope('A', 2), envelope('C', 1)]);
    const mine = new PostgresOutboxStore(dataSource);
    const other = new PostgresOutboxStore(dataSource);
    const subjectsOf = (rows: OutboxRecord[]) =>
      rows.map((r) => `${r.subject}${(JSON.parse(r.payload) as { data: { n: number } }).data.n}`);

    const first = await mine.claimBatch(2);
    expect(subjectsOf(first)).toEqual(['A1', 'B1']);
    // A1 is in flight here: A2 waits for it elsewhere, C1 is free for anyone.
    expect(subjectsOf(await other.claimBatch(10))).toEqual(['C1']);
    expect(subjectsOf(await mine.claimBatch(10))).toEqual(['A2']);

    const leases = await dataSource.query<Array<{ leased_by: string; n: number }>>(
      `SELECT leased_by, count(*)::int AS n FROM messaging.outbox GROUP BY leased_by ORDER BY n`,
    );
    expect(leases).toEqual([
      { leased_by: other.owner, n: 1 },
      { leased_by: mine.owner, n: 3 },
    ]);

    // Once A1 waits for a retry it holds A back for its own claimer too; another claimer
    // cannot record a failure or release a row it does not hold.
    const a2 = (
      await dataSource.query<Array<{ position: string }>>(
        `SELECT position FROM messaging.outbox WHERE payload->'data'->>'n' = '2'`,
      )
    )[0]!.position;
    await other.release([a2]);
    expect(await mine.claimBatch(10)).toEqual([]); // still leased to mine, not released
    await mine.markFailed(first[0]!.position, 'nacked', new Date(Date.now() + 60_000));
    await mine.release([a2]);
    expect(await mine.claimBatch(10)).toEqual([]);
    expect(await other.claimBatch(10)).toEqual([]);
  });

  it('leaves its pooled connection usable after a failed claim', async () => {
    await append([envelope('F', 1)]);
    const single = createMessagingDataSource({ url, poolSize: 1 });
    await single.initialize();
    try {
      const store = new PostgresOutboxStore(single);
      await dataSource.query('ALTER TABLE messaging.outbox RENAME TO outbox_away');
      try {
        await expect(store.claimBatch(10)).rejects.toThrow(/outbox/);
      } finally {
        await dataSource.query('ALTER TABLE messaging.outbox_away RENAME TO outbox');
      }
      // The only connection of the pool was rolled back, not left in an aborted transaction.
      expect(await store.claimBatch(10)).toHaveLength(1);
    } finally {
      await single.destroy();
    }
  });

  it('refuses settings and positions it cannot inline into its statements', async () => {
    expect(() => new PostgresOutboxStore(dataSource, { owner: "x'; DROP TABLE y; --" })).toThrow(
      /owner must be a UUID/,
    );
    expect(() => new PostgresOutboxStore(dataSource, { leaseMs: 1.5 })).toThrow(/leaseMs/);
    expect(() => new PostgresOutboxStore(dataSource, { scanFactor: 0 })).toThrow(/scanFactor/);
    const store = new PostgresOutboxStore(dataSource);
    await expect(store.markPublished(['1); DROP TABLE y; --'])).rejects.toThrow(/position/);
    await expect(store.claimBatch(0)).rejects.toThrow(/limit/);
  });

  it('runs inbox work once per (consumer, event), including concurrent duplicates', async () => {
    const inbox = new Inbox();
    await dataSource.query(
      'CREATE TABLE IF NOT EXISTS public.effects (event_id uuid, consumer text)',
    );
    const eventId = randomUUID();
    const effect = (consumer: string) => (manager: EntityManager) =>
      manager
        .query('INSERT INTO public.effects VALUES ($1, $2)', [eventId, consumer])
        .then(() => undefined);

    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        inbox.runOnce(dataSource, 'billing', eventId, effect('billing')),
      ),
    );
    expect(results.filter((r) => r === 'processed')).toHaveLength(1);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(4);
    expect(await inbox.runOnce(dataSource, 'notifier', eventId, effect('notifier'))).toBe(
      'processed',
    );

    const failing = randomUUID();
    await expect(
      inbox.runOnce(dataSource, 'billing', failing, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(await inbox.runOnce(dataSource, 'billing', failing, () => Promise.resolve())).toBe(
      'processed',
    );
    expect(await dataSource.query('SELECT consumer FROM public.effects ORDER BY consumer')).toEqual(
      [{ consumer: 'billing' }, { consumer: 'notifier' }],
    );
    expect(await inbox.prune(dataSource, new Date(Date.now() + 1000))).toBe(3);
  });
});
