import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { envToProcessEnv, type Runner } from '@stratavore/runner-manager-domain';

import { AgentSpawner } from './agent-spawner';
import { GitWorktrees } from './git-worktrees';
import {
  type LaunchedAgent,
  type LaunchSpec,
  type RunnerLauncher,
  type RunnerSignal,
} from './runner-launcher.port';
import {
  EMPTY_LOG_WINDOW,
  type LogWindow,
  type LogWindowRequest,
  readLogFileWindow,
} from './runner-log-window';

export interface LocalProcessLauncherOptions {
  /** The agent's entry point (`dist/apps/agent/apps/agent/src/main.js`). */
  readonly agentMainPath: string;
  /**
   * Base URL the agent sends heartbeats to; a function when it is known only once the HTTP
   * server listens (the single-node daemon on a port picked by the OS).
   */
  readonly heartbeatUrl: string | (() => string);
  /** Base URL the agent uploads transcripts to (session-store); default: the heartbeat URL. */
  readonly transcriptUrl?: string;
  /** Where the agent's own output (`<runner-id>.agent.log`) and the child's log go. */
  readonly logDir: string;
  /** Heartbeat interval handed to the agent (default 10 000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** The node binary (default: the one running this process). */
  readonly nodePath?: string;
  /**
   * The environment the agent inherits before the project's env (default: this process's,
   * without the service's own secrets and `STRATAVORE_*`).
   */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** Reported as the runner's host (default `os.hostname()`). */
  readonly host?: string;
  /** How long {@link LocalProcessLauncher.reap} waits after SIGTERM before SIGKILL (default 3 000 ms). */
  readonly reapGraceMs?: number;
  /**
   * Where runners' git worktrees are made (`WORKTREE_DIR`, docs/worktrees.md); absent: this
   * launcher makes none and `--worktree` launches are refused.
   */
  readonly worktreeDir?: string;
}

/** Variables of this service that an agent must never see. */
const PRIVATE_ENV = /^(STRATAVORE_.*|DATABASE_URL|AMQP_URL|EVENT_SIGNING_KEY|.*_PASSWORD)$/;

function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !PRIVATE_ENV.test(name)),
  );
}

/**
 * Starts `node <agent> --interval <ms> -- <command...>` detached (own session, stdio to a log
 * file, unref'd, from a small spawner process: agent-spawner.ts), in the runner's `cwd` (the project's path unless resumed elsewhere), so the agent outlives a restart of this process. The
 * token travels in the environment only, never in argv.
 */
export class LocalProcessLauncher implements RunnerLauncher {
  readonly kind = 'local' as const;
  readonly heartbeatIntervalMs: number;
  readonly worktrees: GitWorktrees | undefined;
  private readonly spawner = new AgentSpawner();

  constructor(private readonly options: LocalProcessLauncherOptions) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
    this.worktrees =
      options.worktreeDir === undefined
        ? undefined
        : new GitWorktrees({ rootDir: options.worktreeDir, host: this.host });
  }

  async launch({ runner, project, token }: LaunchSpec): Promise<LaunchedAgent> {
    // Through the spawner process: a spawn() from here would fork this whole process while its
    // event loop, and every request in flight, waits (agent-spawner.ts).
    const pid = await this.spawner.spawn({
      file: this.options.nodePath ?? process.execPath,
      args: [
        this.options.agentMainPath,
        '--interval',
        `${this.heartbeatIntervalMs}ms`,
        '--',
        ...runner.command,
      ],
      // A resumed session runs where it ran before (Claude keys sessions by directory).
      cwd: runner.cwd ?? project.path,
      logFile: join(this.options.logDir, `${runner.id}.agent.log`),
      env: {
        ...(this.options.baseEnv ?? inheritedEnv()),
        // A project's env may point its agents at another session-store.
        ...(this.options.transcriptUrl === undefined
          ? {}
          : { STRATAVORE_TRANSCRIPT_URL: this.options.transcriptUrl }),
        ...envToProcessEnv(project.env),
        STRATAVORE_RUNNER_ID: runner.id,
        STRATAVORE_RUNNER_TOKEN: token,
        STRATAVORE_HEARTBEAT_URL: this.agentHeartbeatUrl(),
        STRATAVORE_LOG_DIR: this.options.logDir,
        ...(runner.prompt === null ? {} : { STRATAVORE_PROMPT: runner.prompt }),
      },
    });
    return { pid, host: this.host };
  }

  /** Ends the spawner process (Nest calls it on shutdown); running agents are not affected. */
  onModuleDestroy(): void {
    this.spawner.close();
  }

  /**
   * SIGTERM to the process group of the runner's child (`-pid`), SIGKILL when something of it is
   * still alive after the grace. Only for a runner of this host, and only when `pid` still names
   * a process-group leader started for this runner (its `/proc/<pid>/stat` pgrp is `pid` and its
   * environment carries `STRATAVORE_RUNNER_ID=<runner id>`), so a reused pid is never signalled.
   */
  async reap(runner: Runner): Promise<void> {
    const pgid = runner.pid;
    if (pgid === null || pgid <= 1 || runner.host !== this.host) return;
    if (!(await isGroupLeaderOf(pgid, runner.id))) return;
    if (!signalGroup(pgid, 'SIGTERM')) return;
    const deadline = Date.now() + (this.options.reapGraceMs ?? 3_000);
    while (Date.now() < deadline) {
      if (!(await groupRunning(pgid))) return;
      await new Promise((resolve) => setTimeout(resolve, REAP_POLL_MS));
    }
    signalGroup(pgid, 'SIGKILL');
  }

  /**
   * The child's log, `<logDir>/<runner-id>.log`, wherever the runner ran: a file there is
   * served. Without one, a runner of another host is out of reach (null); one of this host, or
   * not started yet, has an empty log.
   */
  async readLog(runner: Runner, request: LogWindowRequest): Promise<LogWindow | null> {
    const window = await readLogFileWindow(join(this.options.logDir, `${runner.id}.log`), request);
    if (window !== null) return window;
    return runner.host === null || runner.host === this.host ? EMPTY_LOG_WINDOW : null;
  }

  agentHeartbeatUrl(): string {
    const url = this.options.heartbeatUrl;
    return typeof url === 'function' ? url() : url;
  }

  private get host(): string {
    return this.options.host ?? hostname();
  }

  signal(runner: Runner, signal: RunnerSignal): Promise<void> {
    if (runner.agentPid === null) return Promise.resolve();
    try {
      process.kill(runner.agentPid, signal);
    } catch (error) {
      // ESRCH: the agent is already gone, which is what was asked for.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return Promise.resolve();
  }
}

const REAP_POLL_MS = 100;

/**
 * True when `pid` leads its own process group and was started for `runnerId` (the agent hands
 * `STRATAVORE_RUNNER_ID` down to its child). A missing or unreadable process is not ours.
 */
async function isGroupLeaderOf(pid: number, runnerId: string): Promise<boolean> {
  try {
    const { state, pgrp } = parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    if (pgrp !== pid || state === 'Z') return false;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    return environ.split('\0').includes(`STRATAVORE_RUNNER_ID=${runnerId}`);
  } catch {
    return false;
  }
}

/** `pid (comm) state ppid pgrp ...` -> state and pgrp; comm may hold spaces and parentheses. */
function parseStat(stat: string): { state: string; pgrp: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}

/**
 * True while a process of group `pgid` is still running. Zombies do not count: orphans of the
 * group are reparented to an init that may never reap them, and they hold nothing.
 */
async function groupRunning(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { state, pgrp } = parseStat(await readFile(`/proc/${entry}/stat`, 'utf8'));
      if (pgrp === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return false;
}

/** Signals process group `pgid`; false when it no longer exists (ESRCH) or is not ours (EPERM). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}
