import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

import { Client } from 'pg';

import { EmbeddedPostgresError, EmbeddedPostgresErrorCode } from './embedded-postgres.error';
import { resolvePostgresBinaries } from './postgres-binaries';
import { ensureServiceUser, type ServiceUser } from './service-user';

export interface EmbeddedPostgresOptions {
  /** The cluster directory; created and initialised (initdb) on first start, reused afterwards. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  readonly port?: number;
  /** Receives every line PostgreSQL and initdb print, and this library's own notes. */
  readonly onLog?: (line: string) => void;
  /** Extra server settings passed as `-c name=value` (e.g. `{ max_connections: '200' }`). */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long to wait for the server to accept connections. Default 30 s. */
  readonly startTimeoutMs?: number;
  /** How long a fast shutdown may take before SIGQUIT (immediate shutdown). Default 15 s. */
  readonly stopTimeoutMs?: number;
}

/** A running embedded PostgreSQL server. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's process id. */
  readonly pid: number;
  /** Fast shutdown (SIGINT), SIGQUIT after `stopTimeoutMs`; resolves when the process exited. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const LOG_TAIL_LINES = 40;
const READY_POLL_MS = 100;
const PORT_ATTEMPTS = 3;
/** Unix socket paths are limited to 107 bytes; `/.s.PGSQL.65535` takes 16 of them. */
const MAX_SOCKET_DIR_LENGTH = 90;

/**
 * Starts a real PostgreSQL server from the `@embedded-postgres/<platform>` binaries.
 *
 * - First start runs initdb (superuser `postgres`, trust authentication on the unix socket and
 *   127.0.0.1 only, UTF8, locale C); later starts reuse the cluster.
 * - The server listens on 127.0.0.1 only; its unix socket lives in the data directory (mode
 *   0700) or is disabled when that path is too long or unusual.
 * - It runs `detached` in its own process group, so a Ctrl-C in the terminal reaches only the
 *   Node process, which is expected to call `stop()` last, after the application drained. Should
 *   Node exit without calling `stop()`, an exit hook sends the fast-shutdown signal anyway.
 * - A `postmaster.pid` left by an earlier run: if that server still runs it is shut down first
 *   (we cannot own the lifecycle of a server we did not start, and it may listen on another
 *   port); if not, the stale file is removed.
 * - As root, initdb and postgres run as the `postgres` system user (created with useradd when
 *   missing); the data directory is chowned to it and its parents get the "others may
 *   traverse" bit (o+x, never read) when they lack it.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const log = options.onLog ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const binaries = await resolvePostgresBinaries();
  const runAs = process.getuid?.() === 0 ? await ensureServiceUser() : undefined;

  await prepareDataDir(dataDir, runAs, log);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initCluster(binaries.initdb, dataDir, runAs, log);
  }
  await clearStalePidFile(dataDir, options.stopTimeoutMs ?? 15_000, log);

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await pickFreePort());
    try {
      return await launch(binaries.postgres, dataDir, port, runAs, options, log);
    } catch (error) {
      const portClash = error instanceof PortInUseError;
      if (!portClash || options.port !== undefined || attempt >= PORT_ATTEMPTS) {
        throw portClash ? error.cause : error;
      }
      log(`[embedded-postgres] port ${port} was taken meanwhile; trying another`);
    }
  }
}

class PortInUseError extends Error {
  constructor(override readonly cause: EmbeddedPostgresError) {
    super(cause.message);
  }
}

async function prepareDataDir(
  dataDir: string,
  runAs: ServiceUser | undefined,
  log: (line: string) => void,
) {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!runAs) return;
  const stat = await fs.stat(dataDir);
  if (stat.uid !== runAs.uid) await fs.chown(dataDir, runAs.uid, runAs.gid);
  await fs.chmod(dataDir, 0o700);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const parent = await fs.stat(dir);
    const traversable =
      (parent.mode & 0o001) !== 0 ||
      (parent.uid === runAs.uid && (parent.mode & 0o100) !== 0) ||
      (parent.gid === runAs.gid && (parent.mode & 0o010) !== 0);
    if (!traversable) {
      await fs.chmod(dir, (parent.mode & 0o7777) | 0o001);
      log(`[embedded-postgres] made ${dir} traversable (o+x) for the ${runAs.name} user`);
    }
    if (dir === path.dirname(dir)) break;
  }
}

async function initCluster(
  initdb: string,
  dataDir: string,
  runAs: ServiceUser | undefined,
  log: (line: string) => void,
) {
  const entries = await fs.readdir(dataDir);
  if (entries.length > 0) {
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.InitdbFailed,
      `${dataDir} holds files but no PostgreSQL cluster (no PG_VERSION); empty it or pick another directory`,
    );
  }
  log(`[embedded-postgres] initdb ${dataDir}`);
  const args = [
    '-D',
    dataDir,
    '-U',
    SUPERUSER,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-instructions',
  ];
  const child = spawn(initdb, args, {
    ...spawnIdentity(runAs),
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = captureLines(child, log);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) {
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.InitdbFailed,
      `initdb exited with code ${String(code)}:\n${tail.join('\n')}`,
    );
  }
  const hbaFile = path.join(dataDir, 'pg_hba.conf');
  await fs.writeFile(
    hbaFile,
    [
      '# Written by Stratavore: trust on the private unix socket and on 127.0.0.1 only.',
      'local all all trust',
      'host  all all 127.0.0.1/32 trust',
      '',
    ].join('\n'),
  );
  if (runAs) await fs.chown(hbaFile, runAs.uid, runAs.gid);
}

/**
 * Shuts down a server that another (possibly dead) process started on `dataDir`, found through
 * its `postmaster.pid`, and removes the pid file when stale. Resolves when nothing runs there.
 */
export async function stopServerInDataDir(
  dataDir: string,
  options: { readonly timeoutMs?: number; readonly onLog?: (line: string) => void } = {},
): Promise<void> {
  await clearStalePidFile(
    path.resolve(dataDir),
    options.timeoutMs ?? 15_000,
    options.onLog ?? (() => undefined),
  );
}

async function clearStalePidFile(
  dataDir: string,
  stopTimeoutMs: number,
  log: (line: string) => void,
) {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let content: string;
  try {
    content = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isPostgresProcess(pid))) {
    log(
      `[embedded-postgres] a server from an earlier run (pid ${pid}) still uses ${dataDir}; shutting it down`,
    );
    await signalAndWait(pid, stopTimeoutMs);
  }
  if (existsSync(pidFile)) {
    log(`[embedded-postgres] removing stale ${pidFile}`);
    await fs.rm(pidFile, { force: true });
  }
}

async function isPostgresProcess(pid: number): Promise<boolean> {
  if (!processExists(pid)) return false;
  try {
    // Guards against pid reuse: the number may now belong to an unrelated process.
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres');
  } catch {
    return process.platform !== 'linux';
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown of a server we did not spawn: SIGINT, then SIGQUIT, then SIGKILL; polls for its end. */
async function signalAndWait(pid: number, timeoutMs: number): Promise<void> {
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!processExists(pid)) return;
      await delay(READY_POLL_MS);
    }
  }
}

function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function socketDirectory(dataDir: string): string {
  return dataDir.length <= MAX_SOCKET_DIR_LENGTH && /^[\w./-]+$/.test(dataDir) ? dataDir : '';
}

function spawnIdentity(runAs: ServiceUser | undefined): { uid?: number; gid?: number } {
  return runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
}

function captureLines(child: ChildProcess, log: (line: string) => void): string[] {
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      log(line);
    });
  }
  return tail;
}

async function launch(
  postgresBinary: string,
  dataDir: string,
  port: number,
  runAs: ServiceUser | undefined,
  options: EmbeddedPostgresOptions,
  log: (line: string) => void,
): Promise<EmbeddedPostgres> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDirectory(dataDir),
    ...options.settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const child = spawn(postgresBinary, args, {
    ...spawnIdentity(runAs),
    cwd: '/',
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  const tail = captureLines(child, log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    process.removeListener('exit', stopOnExit);
  });
  // Last resort when Node exits without stop(): ask for a fast shutdown (a synchronous signal is
  // all an exit handler can do); PostgreSQL completes it on its own.
  function stopOnExit() {
    if (!hasExited && child.pid) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  }
  process.once('exit', stopOnExit);

  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
  const exitedEarly = exited.then(() => {
    const output = tail.join('\n');
    const error = new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.StartFailed,
      `PostgreSQL exited during start-up (port ${port}, data ${dataDir}):\n${output}`,
    );
    throw /could not bind|address already in use/i.test(output) ? new PortInUseError(error) : error;
  });
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  try {
    await Promise.race([
      spawnFailed,
      exitedEarly,
      waitUntilAccepting(url, startTimeoutMs, () => hasExited),
    ]);
  } catch (error) {
    if (!hasExited && child.pid) await stopChild(child, exited, options.stopTimeoutMs ?? 15_000);
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined)
    throw new EmbeddedPostgresError(
      EmbeddedPostgresErrorCode.StartFailed,
      'postgres did not start',
    );
  log(`[embedded-postgres] ready on 127.0.0.1:${port} (pid ${pid}, data ${dataDir})`);

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dataDir,
    pid,
    stop: () => {
      stopping ??= hasExited
        ? Promise.resolve()
        : stopChild(child, exited, options.stopTimeoutMs ?? 15_000);
      return stopping;
    },
  };
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  let escalation: NodeJS.Timeout | undefined;
  const escalate = (signals: NodeJS.Signals[]) => {
    const [signal, ...rest] = signals;
    if (!signal) return;
    escalation = setTimeout(() => {
      child.kill(signal);
      escalate(rest);
    }, timeoutMs);
  };
  child.kill('SIGINT');
  escalate(['SIGQUIT', 'SIGKILL']);
  try {
    await exited;
  } finally {
    clearTimeout(escalation);
  }
}

async function waitUntilAccepting(
  url: string,
  timeoutMs: number,
  gaveUp: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !gaveUp()) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await delay(READY_POLL_MS);
  }
  if (gaveUp()) return new Promise(() => undefined); // the exit path reports the failure
  throw new EmbeddedPostgresError(
    EmbeddedPostgresErrorCode.StartTimeout,
    `PostgreSQL did not accept connections at ${url} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
