import { type Project, type Runner } from '@stratavore/runner-manager-domain';

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
  /** Resolves once the agent process exists; rejects when it could not be started. */
  launch(spec: LaunchSpec): Promise<LaunchedAgent>;
  /** Asks the runner's agent to stop (SIGTERM) or kills it (SIGKILL); a gone agent is fine. */
  signal(runner: Runner, signal: RunnerSignal): Promise<void>;
}

/** Nest injection token of the {@link RunnerLauncher}. */
export const RUNNER_LAUNCHER = Symbol('RUNNER_LAUNCHER');
