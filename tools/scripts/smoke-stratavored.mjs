// Smoke test of the single-node daemon as a user runs it (`npm start`, i.e. start.mjs): start on
// a fresh data directory
// (embedded PostgreSQL, in-process bus), wait for health, check metrics, SIGTERM, expect a
// clean exit with no postgres left behind; then start again on the same data and stop it as a
// terminal's Ctrl-C does (SIGINT to the whole foreground process group: start.mjs and the daemon).
//
// External mode, when DATABASE_URL and AMQP_URL are set: start once more on the machine's
// PostgreSQL and RabbitMQ (a database and a vhost of its own, created here and dropped after, so
// nothing is left on the shared servers), wait for readiness, check that no embedded PostgreSQL
// was started and that the daemon really used both servers, SIGTERM, expect exit 0.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

const root = join(import.meta.dirname, '..', '..');
const start = join(root, 'tools/scripts/start.mjs');
const dataDir = mkdtempSync(join(tmpdir(), 'stratavored-smoke-'));
const deadline = (ms) => Date.now() + ms;

function fail(message) {
  console.error(`smoke: FAILED: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

async function poll(what, fn, ms) {
  const until = deadline(ms);
  let last;
  while (Date.now() < until) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${what} within ${ms} ms${last ? ` (last error: ${last.message})` : ''}`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `npm start`'s script; `output` gathers both streams, `exited` its end. */
function startDaemon(env, { detached = false } = {}) {
  const child = spawn(process.execPath, [start], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  const run = { child, output: '' };
  child.stdout.on('data', (d) => (run.output += d));
  child.stderr.on('data', (d) => (run.output += d));
  run.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  /** The API URL the daemon prints once it listens. */
  run.url = (label) =>
    poll(
      `${label}: the daemon announces its API URL`,
      () => run.output.match(/listening on (http:\/\/[^\s"]+)/)?.[1],
      90_000,
    );
  return run;
}

/** `stop`: 'SIGTERM' to start.mjs, or 'ctrl-c': SIGINT to its whole process group. */
async function runOnce(label, stop = 'SIGTERM') {
  const env = {
    ...process.env,
    STRATAVORE_DATA_DIR: dataDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.AMQP_URL;
  env.STRATAVORE_CONFIG = join(dataDir, 'cli.json');
  const started = Date.now();
  // Ctrl-C: a process group of its own, as a terminal gives its foreground job.
  const run = startDaemon(env, { detached: stop === 'ctrl-c' });
  const { child, exited } = run;
  try {
    const url = await run.url(label);
    await poll(
      `${label}: /health/ready answers 200`,
      async () => (await fetch(`${url}/health/ready`)).ok,
      30_000,
    );
    const live = await fetch(`${url}/health/live`);
    if (!live.ok) fail(`${label}: /health/live answered ${live.status}`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (!metrics.includes('process_cpu_user_seconds_total'))
      fail(`${label}: /metrics lacks process metrics`);
    const readyMs = Date.now() - started;
    const pid = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    if (stop === 'ctrl-c') process.kill(-child.pid, 'SIGINT');
    else child.kill('SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve({ code: 'timeout' }), 30_000)),
    ]);
    if (code !== 0) fail(`${label}: exit after ${stop} was ${code ?? signal}`);
    await poll(
      `${label}: embedded postgres (pid ${pid}) gone after stop`,
      () => !isAlive(pid),
      10_000,
    );
    console.log(
      `smoke: ${label}: ready in ${readyMs} ms at ${url}, clean stop on ${stop}, postgres ${pid} gone`,
    );
    if (!existsSync(join(dataDir, 'cli.json'))) {
      fail(`${label}: no CLI config with an admin key was written`);
    }
  } catch (error) {
    child.kill('SIGKILL');
    console.error(run.output.split('\n').slice(-40).join('\n'));
    throw error;
  }
}

/** The processes below `pid` (Linux /proc), each with its command line. */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      children.set(ppid, [...(children.get(ppid) ?? []), { pid: Number(entry), cmdline }]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found = [];
  const visit = (parent) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      visit(child.pid);
    }
  };
  visit(pid);
  return found;
}

function rabbitmqctl(args) {
  return new Promise((resolve, reject) =>
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message} ${stderr}`.trim()))
        : resolve(stdout),
    ),
  );
}

/**
 * A vhost of its own on the broker of `amqpUrl` (through rabbitmqctl: the broker must run on
 * this machine, as in CI), so the daemon's queues and bindings go when the vhost is deleted.
 */
async function createVhost(amqpUrl, name) {
  const url = new URL(amqpUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    fail(`external mode: rabbitmqctl makes the vhost; it reaches no broker on ${url.hostname}`);
  }
  const user = decodeURIComponent(url.username) || 'guest';
  await rabbitmqctl(['add_vhost', name]);
  const vhostUrl = new URL(url.toString());
  vhostUrl.pathname = `/${encodeURIComponent(name)}`;
  const vhost = {
    url: vhostUrl.toString(),
    connections: async () =>
      (await rabbitmqctl(['list_connections', '-q', '--no-table-headers', 'vhost']))
        .split('\n')
        .filter((line) => line.trim() === name),
    delete: () => rabbitmqctl(['delete_vhost', name]),
  };
  try {
    await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  } catch (error) {
    await vhost.delete().catch(() => undefined);
    throw error;
  }
  return vhost;
}

/** A throwaway database on the server of `databaseUrl`; dropped (connections and all) after. */
async function createDatabase(databaseUrl, name) {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const query = async (sql) => {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const drop = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  return { url: url.toString(), query, drop };
}

async function runExternal(databaseUrl, amqpUrl) {
  const label = 'external PostgreSQL and RabbitMQ';
  const name = `stratavored_smoke_${process.pid}_${Date.now()}`;
  const ownDataDir = mkdtempSync(join(tmpdir(), 'stratavored-smoke-external-'));
  const database = await createDatabase(databaseUrl, name);
  let vhost;
  try {
    vhost = await createVhost(amqpUrl, name);
    const env = {
      ...process.env,
      STRATAVORE_DATA_DIR: ownDataDir,
      STRATAVORE_CONFIG: join(ownDataDir, 'cli.json'),
      DATABASE_URL: database.url,
      AMQP_URL: vhost.url,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    };
    const started = Date.now();
    const run = startDaemon(env);
    const { child, exited } = run;
    try {
      const url = await run.url(label);
      const ready = await poll(
        `${label}: /health/ready answers 200`,
        async () => {
          const response = await fetch(`${url}/health/ready`);
          return response.ok && (await response.json());
        },
        30_000,
      );
      if (ready.info?.database?.status !== 'up' || ready.info?.broker?.status !== 'up') {
        fail(
          `${label}: /health/ready did not report database and broker up: ${JSON.stringify(ready)}`,
        );
      }
      const readyMs = Date.now() - started;

      // No embedded PostgreSQL: not announced, no data directory, no postgres process.
      if (!run.output.includes('using the PostgreSQL given by DATABASE_URL')) {
        fail(`${label}: the daemon did not say it uses the PostgreSQL of DATABASE_URL`);
      }
      if (run.output.includes('embedded PostgreSQL is up')) {
        fail(`${label}: the daemon started an embedded PostgreSQL`);
      }
      if (existsSync(join(ownDataDir, 'postgres'))) {
        fail(`${label}: an embedded PostgreSQL data directory was created`);
      }
      const postgresChildren = descendants(child.pid).filter((p) => /postgres/.test(p.cmdline));
      if (postgresChildren.length > 0) {
        fail(
          `${label}: postgres processes under the daemon: ${postgresChildren.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`,
        );
      }

      // The daemon really works on the servers it was given.
      const [{ tables }] = await database.query(
        "SELECT count(*)::int AS tables FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
      );
      if (tables === 0) fail(`${label}: no tables were migrated into the given database`);
      const connections = await poll(
        `${label}: the daemon holds a connection in its RabbitMQ vhost`,
        async () => {
          const found = await vhost.connections();
          return found.length > 0 && found;
        },
        10_000,
      );

      child.kill('SIGTERM');
      const { code, signal } = await Promise.race([
        exited,
        new Promise((resolve) => setTimeout(() => resolve({ code: 'timeout' }), 30_000)),
      ]);
      if (code !== 0) fail(`${label}: exit after SIGTERM was ${code ?? signal}`);
      console.log(
        `smoke: ${label}: ready in ${readyMs} ms at ${url}, ${tables} tables in ${name}, ` +
          `${connections.length} broker connection(s), no embedded postgres, clean stop`,
      );
    } catch (error) {
      child.kill('SIGKILL');
      console.error(run.output.split('\n').slice(-40).join('\n'));
      throw error;
    }
  } finally {
    await vhost?.delete().catch((error) => console.error(`smoke: ${error.message}`));
    await database.drop().catch((error) => console.error(`smoke: ${error.message}`));
    rmSync(ownDataDir, { recursive: true, force: true });
  }
}

try {
  await runOnce('first start');
  const pgVersion = statSync(join(dataDir, 'postgres', 'PG_VERSION')).mtimeMs;
  await runOnce('second start', 'ctrl-c');
  if (statSync(join(dataDir, 'postgres', 'PG_VERSION')).mtimeMs !== pgVersion) {
    fail('second start re-initialised the data directory instead of reusing it');
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
const { DATABASE_URL: externalDatabase, AMQP_URL: externalBroker } = process.env;
if (externalDatabase && externalBroker) {
  await runExternal(externalDatabase, externalBroker);
} else {
  console.log('smoke: external mode skipped (set DATABASE_URL and AMQP_URL to run it)');
}
console.log('smoke: passed');
