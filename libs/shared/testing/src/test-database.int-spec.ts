import { Client } from 'pg';

import { createTestDatabase, type TestDatabase } from './test-database';

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  const serverUrl = process.env.DATABASE_URL;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('testing_harness');
  });

  afterAll(async () => {
    await database.drop();
  });

  it('gets DATABASE_URL from the jest global setup', () => {
    expect(serverUrl).toMatch(/^postgres(ql)?:\/\//);
  });

  it('creates an isolated, empty database on the DATABASE_URL server', async () => {
    expect(database.name).toMatch(/^testing_harness_[0-9a-z]+_[0-9a-f]{6}$/);
    const rows = await withClient(database.url, async (client) => {
      await client.query('CREATE TABLE probe (id serial primary key, label text not null)');
      await client.query("INSERT INTO probe (label) VALUES ('isolated')");
      return (
        await client.query<{ db: string; label: string }>(
          'SELECT current_database() AS db, label FROM probe',
        )
      ).rows;
    });
    expect(rows).toEqual([{ db: database.name, label: 'isolated' }]);
  });

  it('drops the database, even with sessions still open', async () => {
    const other = await createTestDatabase('testing_harness');
    const holder = new Client({ connectionString: other.url });
    await holder.connect();
    holder.on('error', () => undefined); // FORCE ends this session
    await other.drop();
    const remaining = await withClient(
      serverUrl ?? '',
      async (client) =>
        (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name])).rowCount,
    );
    expect(remaining).toBe(0);
    await holder.end().catch(() => undefined);
  });
});
