import { join } from 'node:path';

import { StratavoreApiClient } from '@stratavore/api-client';
import { SystemClock } from '@stratavore/core';

import { type AgentArgs } from './agent-args';
import { type AgentConfig } from './agent-config';
import { type AgentLogger } from './agent-logger';
import { childEnvironment, NodeChildLauncher } from './child-process';
import { ProcfsTreeSampler } from './process-tree-sampler';
import {
  type AgentOutcome,
  RunnerSupervisor,
  type RunnerSupervisorDeps,
} from './runner-supervisor';
import { TimerScheduler } from './scheduler';
import { ZeroUsageSource } from './usage-source';

/** Reported as `agentVersion` in every heartbeat. */
export const AGENT_VERSION = '0.1.0';

export interface RunAgentOptions {
  readonly args: AgentArgs;
  readonly config: AgentConfig;
  readonly logger: AgentLogger;
  /** Aborted on SIGTERM or SIGINT to the agent. */
  readonly stopSignal?: AbortSignal;
  /** The child's working directory; default the agent's own (the launcher sets the project path). */
  readonly cwd?: string;
  /** The agent's environment; the child gets it without the runner token. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces a real collaborator (tests, or the Claude adapter's `usage`). */
  readonly overrides?: Partial<RunnerSupervisorDeps>;
}

/** Where the child's output goes: `<STRATAVORE_LOG_DIR>/<runner-id>.log`. */
export function childLogFile(config: AgentConfig): string {
  return join(config.STRATAVORE_LOG_DIR, `${config.STRATAVORE_RUNNER_ID}.log`);
}

/** Runs the command under supervision and resolves when it ended and was reported. */
export function runAgent(options: RunAgentOptions): Promise<AgentOutcome> {
  const { args, config } = options;
  const deps: RunnerSupervisorDeps = {
    client: new StratavoreApiClient({
      baseUrl: config.STRATAVORE_HEARTBEAT_URL,
      token: config.STRATAVORE_RUNNER_TOKEN,
      timeoutMs: Math.min(10_000, Math.max(1_000, args.intervalMs)),
    }),
    launcher: new NodeChildLauncher({
      cwd: options.cwd ?? process.cwd(),
      env: childEnvironment(options.env ?? process.env),
      logFile: childLogFile(config),
    }),
    sampler: new ProcfsTreeSampler(),
    usage: new ZeroUsageSource(),
    clock: new SystemClock(),
    scheduler: new TimerScheduler(),
    random: Math.random,
    logger: options.logger,
    ...options.overrides,
  };
  return new RunnerSupervisor(
    {
      runnerId: config.STRATAVORE_RUNNER_ID,
      command: args.command,
      agentVersion: AGENT_VERSION,
      intervalMs: args.intervalMs,
      stopTimeoutMs: args.stopTimeoutMs,
      finalReportTimeoutMs: args.finalReportTimeoutMs,
      stopSignal: options.stopSignal,
    },
    deps,
  ).run();
}
