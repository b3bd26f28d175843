import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { Client } from 'pg';

import { createDatabase, dropDatabase } from './databases';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  let workDir: string;
  const running: EmbeddedPostgres[] = [];

  async function start(dataDir: string): Promise<EmbeddedPostgres> {
    const server = await startEmbeddedPostgres({ dataDir });
    running.push(server);
    return server;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'stratavore-embedded-pg-'));
  });

  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
    await rm(workDir, { recursive: true, force: true });
  });

  it('initialises a cluster, keeps its data across restarts and leaves no process behind', async () => {
    const dataDir = path.join(workDir, 'reuse');
    const first = await start(dataDir);
    expect(first.url).toBe(`postgres://postgres@127.0.0.1:${first.port}/postgres`);
    expect(first.port).not.toBe(5432);
    await query(
      first.url,
      "CREATE TABLE kept (id int primary key, note text); INSERT INTO kept VALUES (1, 'hello')",
    );
    const [settings] = await query<{ listen: string; encoding: string; collate: string }>(
      first.url,
      "SELECT current_setting('listen_addresses') AS listen, pg_encoding_to_char(encoding) AS encoding, datcollate AS collate FROM pg_database WHERE datname = 'postgres'",
    );
    expect(settings).toEqual({ listen: '127.0.0.1', encoding: 'UTF8', collate: 'C' });

    await first.stop();
    expect(isAlive(first.pid)).toBe(false);
    await first.stop(); // idempotent

    const second = await start(dataDir);
    await expect(query(second.url, 'SELECT note FROM kept')).resolves.toEqual([{ note: 'hello' }]);
    await second.stop();
    expect(isAlive(second.pid)).toBe(false);
  });

  it('starts over a postmaster.pid left by a killed run', async () => {
    const dataDir = path.join(workDir, 'killed');
    const victim = await start(dataDir);
    process.kill(victim.pid, 'SIGKILL');
    await waitUntilGone(victim.pid);
    const pidFile = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
    expect(pidFile.split('\n')[0]).toBe(String(victim.pid));

    const next = await start(dataDir);
    await expect(query(next.url, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    await next.stop();
  });

  it('removes a pid file that points at no process', async () => {
    const dataDir = path.join(workDir, 'bogus-pid');
    const first = await start(dataDir);
    await first.stop();
    await writeFile(path.join(dataDir, 'postmaster.pid'), '4194000\n/nonexistent\n');
    const next = await start(dataDir);
    await expect(query(next.url, 'SELECT 2 AS two')).resolves.toEqual([{ two: 2 }]);
    await next.stop();
  });

  it('shuts down a server from an earlier run that still holds the data directory', async () => {
    const dataDir = path.join(workDir, 'still-running');
    const orphan = await start(dataDir);
    const successor = await start(dataDir);
    expect(isAlive(orphan.pid)).toBe(false);
    await expect(query(successor.url, 'SELECT 3 AS three')).resolves.toEqual([{ three: 3 }]);
    await orphan.stop();
    await successor.stop();
  });

  it('creates and drops databases', async () => {
    const server = await start(path.join(workDir, 'databases'));
    const url = await createDatabase(server.url, 'stratavore_extra');
    expect(url).toBe(`postgres://postgres@127.0.0.1:${server.port}/stratavore_extra`);
    await expect(createDatabase(server.url, 'stratavore_extra')).resolves.toBe(url);
    await expect(query(url, 'SELECT current_database() AS name')).resolves.toEqual([
      { name: 'stratavore_extra' },
    ]);

    const holder = new Client({ connectionString: url });
    await holder.connect();
    holder.on('error', () => undefined); // FORCE terminates this session
    await dropDatabase(server.url, 'stratavore_extra');
    await expect(
      query(
        server.url,
        "SELECT count(*)::int AS n FROM pg_database WHERE datname = 'stratavore_extra'",
      ),
    ).resolves.toEqual([{ n: 0 }]);
    await expect(createDatabase(server.url, 'bad"name')).rejects.toThrow(
      'not a valid database name',
    );
    await server.stop();
  });
});
