import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { envToProcessEnv, type Runner } from '@stratavore/runner-manager-domain';

import {
  type LaunchedAgent,
  type LaunchSpec,
  type RunnerLauncher,
  type RunnerSignal,
} from './runner-launcher.port';

export interface LocalProcessLauncherOptions {
  /** The agent's entry point (`dist/apps/agent/apps/agent/src/main.js`). */
  readonly agentMainPath: string;
  /**
   * Base URL the agent sends heartbeats to; a function when it is known only once the HTTP
   * server listens (the single-node daemon on a port picked by the OS).
   */
  readonly heartbeatUrl: string | (() => string);
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
 * file, unref'd), in the project's path, so the agent outlives a restart of this process. The
 * token travels in the environment only, never in argv.
 */
export class LocalProcessLauncher implements RunnerLauncher {
  readonly kind = 'local' as const;
  readonly heartbeatIntervalMs: number;

  constructor(private readonly options: LocalProcessLauncherOptions) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  }

  async launch({ runner, project, token }: LaunchSpec): Promise<LaunchedAgent> {
    mkdirSync(this.options.logDir, { recursive: true });
    const logFd = openSync(join(this.options.logDir, `${runner.id}.agent.log`), 'a');
    try {
      const child = spawn(
        this.options.nodePath ?? process.execPath,
        [
          this.options.agentMainPath,
          '--interval',
          `${this.heartbeatIntervalMs}ms`,
          '--',
          ...runner.command,
        ],
        {
          cwd: project.path,
          detached: true,
          stdio: ['ignore', logFd, logFd],
          env: {
            ...(this.options.baseEnv ?? inheritedEnv()),
            ...envToProcessEnv(project.env),
            STRATAVORE_RUNNER_ID: runner.id,
            STRATAVORE_RUNNER_TOKEN: token,
            STRATAVORE_HEARTBEAT_URL:
              typeof this.options.heartbeatUrl === 'function'
                ? this.options.heartbeatUrl()
                : this.options.heartbeatUrl,
            STRATAVORE_LOG_DIR: this.options.logDir,
            ...(runner.prompt === null ? {} : { STRATAVORE_PROMPT: runner.prompt }),
          },
        },
      );
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => {
          if (child.pid === undefined) reject(new Error('the agent process has no pid'));
          else resolve(child.pid);
        });
      });
      child.unref();
      return { pid, host: this.options.host ?? hostname() };
    } finally {
      closeSync(logFd);
    }
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
