// The end-to-end harness: the built daemon, CLI and agent as real child processes, each suite in
// its own temporary directory (data dir, CLI config, project dir), and a cleanup that leaves no
// process behind even when a test fails. Linux: liveness and the process sweep read /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

export const DIST = {
  daemon: join(WORKSPACE_ROOT, 'dist/apps/stratavored/apps/stratavored/src/main.js'),
  cli: join(WORKSPACE_ROOT, 'dist/apps/cli/apps/cli/src/bin.js'),
  agent: join(WORKSPACE_ROOT, 'dist/apps/agent/apps/agent/src/main.js'),
} as const;

export const BUILD_COMMAND = 'npx nx run-many -t build -p stratavored cli agent';

/** What {@link buildApps} runs and the files it must leave behind. */
export interface BuildSpec {
  readonly command?: string;
  readonly outputs?: readonly string[];
}

/** The runner fields the tests read; `runners --json` returns more. */
export interface RunnerView {
  readonly id: string;
  readonly project: { readonly id: string; readonly name: string };
  readonly state: string;
  readonly pid: number | null;
  readonly agentPid: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly failureReason: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly lastHeartbeatAt: string | null;
  /** Claude Code's session id, once the agent reported it. */
  readonly sessionId: string | null;
}

export interface CliResult {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Thrown from a probe to stop `eventually` at once (the thing waited for can no longer happen). */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it returns a truthy value, which is returned; a probe that throws (a
 * failed `expect`, a CLI error) is retried. Past the deadline, fails naming what was awaited and
 * the last error or value. No fixed sleeps: every wait in the suite goes through here.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  { timeoutMs, intervalMs = 250 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  let lastWasError = false;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
      lastWasError = false;
    } catch (error) {
      if (error instanceof GiveUp) throw new Error(`${what}: ${error.message}`);
      last = error;
      lastWasError = true;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const detail = lastWasError
    ? `last error: ${(last as Error).message ?? String(last)}`
    : `last value: ${JSON.stringify(last)}`;
  throw new Error(`${what}: not within ${timeoutMs} ms (${detail})`);
}

/** Whether a process exists and is not a zombie (a container's pid 1 may never reap it). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat')) {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Runs the workspace build of the apps a suite needs (by default the daemon, CLI and agent);
 * fails with the output's tail, or when one of `outputs` is missing after it.
 */
export function buildApps(
  timeoutMs: number,
  { command = BUILD_COMMAND, outputs = Object.values(DIST) }: BuildSpec = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
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
      const missing = outputs.filter((file) => !existsSync(file));
      if (code === 0 && missing.length === 0) return resolve();
      reject(
        new Error(
          `\`${command}\` ${code === 0 ? `left ${missing.join(', ')} missing` : `failed (${code ?? sig})`}; ` +
            `run it by hand to see why. Last output:\n${output.split('\n').slice(-30).join('\n')}`,
        ),
      );
    });
  });
}

/** One suite's world: temp dirs, the daemons it started, and every pid it saw. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'stratavore-e2e-'));
  readonly dataDir = join(this.root, 'data');
  readonly configPath = join(this.root, 'cli', 'config.json');
  readonly projectDir = join(this.root, 'project');
  /** In every runner's command line (agent and child): the cleanup sweep looks for it. */
  readonly marker = basename(this.root);
  readonly daemons: Daemon[] = [];
  private readonly pids = new Set<number>();

  constructor() {
    mkdirSync(this.projectDir);
  }

  /** A command that prints a line every 200 ms forever, tagged with this sandbox's marker. */
  tickingCommand(): string {
    return `node -e "globalThis.e2e = '${this.marker}'; setInterval(() => console.log('tick', Date.now()), 200)"`;
  }

  track(runners: readonly RunnerView[]): void {
    for (const runner of runners) {
      if (runner.pid) this.pids.add(runner.pid);
      if (runner.agentPid) this.pids.add(runner.agentPid);
    }
  }

  async startDaemon(env: Record<string, string> = {}): Promise<Daemon> {
    const daemon = new Daemon(this, env);
    this.daemons.push(daemon);
    await daemon.ready();
    return daemon;
  }

  async cli(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
    return this.startCli(args, timeoutMs).result;
  }

  /**
   * Starts the CLI as {@link cli} does but hands back its output while it runs (`logs
   * --follow`). Killed after `timeoutMs`.
   */
  startCli(
    args: readonly string[],
    timeoutMs = 60_000,
  ): { stdout: () => string; result: Promise<CliResult> } {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STRATAVORE_CONFIG: this.configPath,
      NO_COLOR: '1',
      COLUMNS: '400',
    };
    delete env.STRATAVORE_API_URL;
    delete env.STRATAVORE_API_KEY;
    const started = Date.now();
    const child = spawn(process.execPath, [DIST.cli, ...args], {
      cwd: this.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = new Promise<CliResult>((resolve) =>
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ args, code, stdout, stderr, ms: Date.now() - started });
      }),
    );
    return { stdout: () => stdout, result };
  }

  /** `runners --json` (newest first); also remembers every pid it shows, for the cleanup. */
  async runners(project?: string): Promise<RunnerView[]> {
    const result = await this.cli([
      'runners',
      '--json',
      ...(project ? ['--project', project] : []),
    ]);
    if (result.code !== 0) throw new Error(describeCli(result));
    const runners = JSON.parse(result.stdout) as RunnerView[];
    this.track(runners);
    return runners;
  }

  async runner(id: string): Promise<RunnerView> {
    const runner = (await this.runners()).find((r) => r.id === id);
    if (!runner) throw new Error(`runner ${id} is not in \`runners --json\``);
    return runner;
  }

  /**
   * Stops what this sandbox started, then removes its directory: daemons (SIGTERM, then
   * SIGKILL), every runner process (agents are detached and outlive the daemon), the embedded
   * PostgreSQL if a daemon died without stopping it.
   */
  async cleanup(): Promise<void> {
    for (const daemon of this.daemons) await daemon.stop(30_000).catch(() => daemon.kill());
    for (const pid of [...this.pids, ...this.sweep()]) {
      if (!isAlive(pid)) continue;
      signal(-pid, 'SIGKILL'); // the agent puts its child in a process group of its own
      signal(pid, 'SIGKILL');
    }
    const postgres = postmasterPid(this.dataDir);
    if (postgres !== null && isAlive(postgres)) {
      signal(postgres, 'SIGQUIT');
      await eventually('embedded PostgreSQL stops', () => !isAlive(postgres), {
        timeoutMs: 10_000,
      }).catch(() => signal(postgres, 'SIGKILL'));
    }
    if (process.env.E2E_KEEP_DIR) {
      process.stdout.write(`e2e: E2E_KEEP_DIR is set: kept ${this.root}\n`);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** Pids whose command line carries this sandbox's marker (agents and their children). */
  private sweep(): number[] {
    if (!existsSync('/proc')) return [];
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
      .filter((name) => {
        try {
          return readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(this.marker);
        } catch {
          return false;
        }
      })
      .map(Number);
  }
}

export function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function describeCli(result: CliResult): string {
  return `\`stratavore ${result.args.join(' ')}\` exited ${result.code} after ${result.ms} ms\nstdout: ${result.stdout.trim()}\nstderr: ${result.stderr.trim()}`;
}

/** The single-node daemon on the sandbox's data dir: embedded PostgreSQL, in-process bus. */
export class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  url = '';
  port = 0;

  constructor(
    private readonly sandbox: Sandbox,
    env: Record<string, string>,
  ) {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      STRATAVORE_DATA_DIR: sandbox.dataDir,
      STRATAVORE_CONFIG: sandbox.configPath,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    };
    for (const name of ['DATABASE_URL', 'AMQP_URL', 'STRATAVORE_API_URL', 'STRATAVORE_API_KEY']) {
      delete childEnv[name];
    }
    this.child = spawn(process.execPath, [DIST.daemon], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, sig) => {
        this.exitStatus = { code, signal: sig };
        resolve(this.exitStatus);
      }),
    );
  }

  get running(): boolean {
    return this.exitStatus === null;
  }

  /** The last lines of its log, for failure messages. */
  tail(lines = 30): string {
    return this.output.trim().split('\n').slice(-lines).join('\n');
  }

  /** Waits for `listening on ...` and for the CLI config to point at this daemon. */
  async ready(timeoutMs = 120_000): Promise<void> {
    const url = await eventually(
      'the daemon announces `listening on http://...`',
      () => {
        if (!this.running) {
          throw new GiveUp(`it exited (${JSON.stringify(this.exitStatus)}):\n${this.tail()}`);
        }
        return /listening on (http:\/\/[^\s"]+)/.exec(this.output)?.[1];
      },
      { timeoutMs },
    );
    this.url = url;
    this.port = Number(new URL(url).port);
    await eventually(
      `the daemon writes ${url} and an API key to the CLI config`,
      () => {
        if (!this.running) throw new GiveUp(`it exited:\n${this.tail()}`);
        const config = JSON.parse(readFileSync(this.sandbox.configPath, 'utf8')) as {
          apiUrl?: string;
          apiKey?: string;
        };
        return config.apiUrl === url && Boolean(config.apiKey);
      },
      { timeoutMs: 30_000 },
    );
  }

  /** SIGTERM and the exit status; SIGKILL and a failure past the deadline. */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exitStatus ?? (await this.exited);
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(
          new Error(`the daemon did not exit within ${timeoutMs} ms of SIGTERM:\n${this.tail()}`),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
