import { type Project, type Runner } from '@stratavore/runner-manager-domain';

import { type LogWindow, type LogWindowRequest } from './runner-log-window';
import { type WorktreeHost } from './worktree-host.port';

/** What a launcher needs to start one runner's agent. */
export interface LaunchSpec {
  readonly runner: Runner;
  readonly project: Project;
  /** The runner token in clear; handed to the agent in its environment, never stored. */
  readonly token: string;
}

/** Where the agent runs. */
export interface LaunchedAgent {
  /** The `stratavore-agent` process id. */
  readonly pid: number;
  readonly host: string;
}

export type RunnerSignal = 'SIGTERM' | 'SIGKILL';

/** Starts and signals agents: a detached local process, later a Kubernetes Job. */
export interface RunnerLauncher {
  /** Recorded in `runner.launched`. */
  readonly kind: 'local' | 'kubernetes';
  /** The heartbeat interval agents are started with (recorded in `runner.launched`). */
  readonly heartbeatIntervalMs?: number;
  /**
   * Git worktrees on the machine the agents run on (`--worktree`, docs/worktrees.md); absent:
   * this launcher cannot make them, and such launches are refused.
   */
  readonly worktrees?: WorktreeHost;
  /**
   * The heartbeat URL its agents report to; an attached runner's agent (`runners.attach`,
   * started by the user's CLI) gets the same.
   */
  agentHeartbeatUrl(): string;
  /** Resolves once the agent process exists; rejects when it could not be started. */
  launch(spec: LaunchSpec): Promise<LaunchedAgent>;
  /** Asks the runner's agent to stop (SIGTERM) or kills it (SIGKILL); a gone agent is fine. */
  signal(runner: Runner, signal: RunnerSignal): Promise<void>;
  /**
   * Makes sure the runner's agent command (its child, leader of its own process group) is gone
   * once runner-manager ended the runner: an agent that was SIGKILLed or hung leaves it running.
   * Does nothing for a runner this launcher cannot reach (another host, no child pid); never
   * rejects for a process that is already gone.
   */
  reap(runner: Runner): Promise<void>;
  /**
   * Reads a window of the runner's log: its agent command's stdout and stderr, as the agent
   * writes them. A runner whose log does not exist yet has an empty one; resolves `null` when
   * the log is where this launcher cannot read it (the runner ran on another host).
   */
  readLog(runner: Runner, request: LogWindowRequest): Promise<LogWindow | null>;
}

/** Nest injection token of the {@link RunnerLauncher}. */
export const RUNNER_LAUNCHER = Symbol('RUNNER_LAUNCHER');
