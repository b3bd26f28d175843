/**
 * The built single-node daemon (`stratavored`: api-gateway, runner-manager, heartbeat-ingest
 * and the outbox relay in one process, in-process bus) on a fresh database of DATABASE_URL's
 * server, with its data, runner logs and CLI config in a temporary directory. The bench talks to
 * it over HTTP with the admin API key the daemon writes to that CLI config on its first start.
 * `stop()` leaves nothing behind: the daemon, every agent and agent child it started (found by
 * their environment, which names this run's log directory), the database and the directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

import { type DatabaseCounters, readDatabaseCounters } from './database-stats';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

export const DIST = {
  daemon: join(WORKSPACE_ROOT, 'dist/apps/stratavored/apps/stratavored/src/main.js'),
  agent: join(WORKSPACE_ROOT, 'dist/apps/agent/apps/agent/src/main.js'),
} as const;

export const BUILD_COMMAND = 'npx nx run-many -t build -p stratavored agent';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Builds the daemon and the agent (an Nx cache hit when nothing changed, so the bench never
 * measures stale code); `BENCH_SKIP_BUILD=1` uses dist/ as it is.
 */
export async function buildDaemonAndAgent(timeoutMs = 400_000): Promise<void> {
  if (process.env.BENCH_SKIP_BUILD === '1') {
    const missing = Object.values(DIST).filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`BENCH_SKIP_BUILD=1 but ${missing.join(', ')} missing`);
    return;
  }
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(BUILD_COMMAND, {
      cwd: WORKSPACE_ROOT,
      shell: true,
      env: { ...process.env, NX_TUI: 'false', NX_DAEMON: 'false', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      const missing = Object.values(DIST).filter((file) => !existsSync(file));
      if (code === 0 && missing.length === 0) return resolve();
      reject(
        new Error(
          `\`${BUILD_COMMAND}\` ${code === 0 ? `left ${missing.join(', ')} missing` : `failed (${code ?? sig})`}:\n${output.split('\n').slice(-30).join('\n')}`,
        ),
      );
    });
  });
  console.log(`built stratavored and the agent (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

export class BenchDaemon {
  readonly root: string;
  readonly logDir: string;
  readonly configPath: string;
  url = '';
  apiKey = '';
  private child: ChildProcess | null = null;
  private database: TestDatabase | null = null;
  private output = '';
  private exited = false;
  private stopping: Promise<void> | undefined;
  private removed = false;

  constructor(private readonly name: string) {
    this.root = mkdtempSync(join(tmpdir(), `stratavore-bench-${name}-`));
    this.logDir = join(this.root, 'runners');
    this.configPath = join(this.root, 'cli', 'config.json');
    mkdirSync(join(this.root, 'project'));
  }

  /** A directory that exists, for the bench's project `path`. */
  get projectDir(): string {
    return join(this.root, 'project');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Database counters of this daemon's database (pg_stat_database). */
  databaseCounters(): Promise<DatabaseCounters> {
    if (!this.database) throw new Error('the daemon has not started');
    return readDatabaseCounters(SERVER_URL, this.database.name);
  }

  /**
   * The daemon's event-loop delay since the previous scrape of its `/metrics` (prom-client's
   * default `nodejs_eventloop_lag_*` gauges, whose histogram resets at every scrape), in ms:
   * call it once before a phase and once after, and the second answer covers the phase.
   */
  async eventLoopDelay(): Promise<{ readonly p99Ms: number; readonly maxMs: number }> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const gauge = (name: string): number => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
      if (!match) throw new Error(`the daemon's /metrics has no ${name}`);
      return Number(match[1]) * 1000;
    };
    return {
      p99Ms: gauge('nodejs_eventloop_lag_p99_seconds'),
      maxMs: gauge('nodejs_eventloop_lag_max_seconds'),
    };
  }

  /**
   * Starts the daemon with `env` over the defaults and waits until its CLI config carries its
   * URL and the admin key. `extraNodeArgs` go before the entry point (`--cpu-prof`, ...).
   */
  async start(env: Record<string, string> = {}, extraNodeArgs: string[] = []): Promise<void> {
    this.database = await createTestDatabase(`bench_${this.name}`, SERVER_URL);
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: this.database.url,
      STRATAVORE_DATA_DIR: join(this.root, 'data'),
      STRATAVORE_CONFIG: this.configPath,
      RUNNER_LOG_DIR: this.logDir,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      NODE_ENV: 'development',
      ...env,
    };
    // The in-process bus: RabbitMQ's default exchange and queues may be shared with others.
    for (const name of ['AMQP_URL', 'STRATAVORE_API_URL', 'STRATAVORE_API_KEY', 'HEARTBEAT_URL']) {
      delete childEnv[name];
    }
    const nodeArgs = (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, ...extraNodeArgs, DIST.daemon], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // BENCH_DAEMON_OUTPUT=file keeps the daemon's whole output (with `--trace-gc` in
    // BENCH_DAEMON_NODE_ARGS, its collections) beside the bench's figures.
    const keep = process.env.BENCH_DAEMON_OUTPUT;
    const collect = (d: Buffer): void => {
      this.output += d.toString();
      if (keep) appendFileSync(keep, d);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('exit', () => (this.exited = true));
    const settings = await waitFor(
      () => {
        if (this.exited) return { exited: true as const };
        if (!existsSync(this.configPath)) return null;
        const parsed = JSON.parse(readFileSync(this.configPath, 'utf8')) as {
          apiUrl?: string;
          apiKey?: string;
        };
        return parsed.apiUrl && parsed.apiKey ? parsed : null;
      },
      { timeoutMs: 120_000, intervalMs: 100, description: 'the daemon to write its CLI config' },
    );
    if ('exited' in settings) throw new Error(`the daemon exited:\n${this.tail()}`);
    this.url = settings.apiUrl!;
    this.apiKey = settings.apiKey!;
  }

  tail(lines = 30): string {
    return this.output.trim().split('\n').slice(-lines).join('\n');
  }

  /** A JSON request to the API with the admin key. */
  async api<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Like {@link api}, failing unless the status is the expected one. */
  async expect<T>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.api<T>(method, path, body);
    if (answer.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    return answer.body;
  }

  /**
   * SIGTERM (SIGKILL after 30 s), then every process of this run, the database, the files.
   * Idempotent. With `keepFiles` the directory stays (a profile to read); call again without.
   */
  stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping.then(() => {
      if (options.keepFiles || this.removed) return;
      this.removed = true;
      if (process.env.BENCH_KEEP_DIR) console.log(`kept ${this.root}`);
      else rmSync(this.root, { recursive: true, force: true });
    });
  }

  private async shutDown(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      child.kill('SIGTERM');
      await waitFor(() => this.exited, { timeoutMs: 30_000, intervalMs: 100 }).catch(() =>
        child.kill('SIGKILL'),
      );
    }
    for (const pid of this.runnerProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.database?.drop().catch(() => undefined);
  }

  /** Agents and their children: their environment names this run's log directory. */
  runnerProcesses(): number[] {
    if (!existsSync('/proc')) return [];
    const marker = `STRATAVORE_LOG_DIR=${this.logDir}`;
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .filter((entry) => {
        try {
          return readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker);
        } catch {
          return false;
        }
      })
      .map(Number);
  }
}
