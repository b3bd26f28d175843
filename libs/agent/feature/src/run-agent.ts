import { join } from 'node:path';

import { HttpHeartbeatClient } from '@stratavore/api-client/heartbeat';
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
import { transcriptUploadsFor } from './transcript-uploader';
import { ZeroUsageSource } from './usage-source';

/** Reported as `agentVersion` in every heartbeat. */
export const AGENT_VERSION = '0.1.0';

export interface RunAgentOptions {
  readonly args: AgentArgs;
  readonly config: AgentConfig;
  readonly logger: AgentLogger;
  /** Aborted on SIGTERM or SIGINT to the agent. */
  readonly stopSignal?: AbortSignal;
  /** Called once the first heartbeat got its answer or failed (see `RunnerSupervisorOptions`). */
  readonly onFirstHeartbeat?: () => void;
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

/**
 * Runs the command under supervision and resolves when it ended and was reported. A Claude Code
 * headless command also gets the agent's hooks (docs/claude-code.md, "Hooks").
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentOutcome> {
  const { args, config } = options;
  const cwd = options.cwd ?? process.cwd();
  const env = childEnvironment(options.env ?? process.env);
  // The Claude Code adapter (and the zod schemas it reads stream-json with) is loaded for a
  // command that may run Claude Code only: a plain command's first heartbeat goes without it.
  const claudeParts = mayRunClaudeCode(args.command) ? await import('./claude-run') : null;
  const claude =
    claudeParts?.claudeUsageSource(args.command, cwd, env, config, options.logger) ?? null;
  if (claude !== null) {
    options.logger.info({ command: args.command[0] }, 'reading Claude Code stream-json for usage');
  }
  const hooks =
    claude === null || claudeParts === null
      ? null
      : await claudeParts.installClaudeHooks(
          args.command,
          cwd,
          (input) => claude.hook(input),
          options.logger,
        );
  const deps: RunnerSupervisorDeps = {
    client: new HttpHeartbeatClient({
      baseUrl: config.STRATAVORE_HEARTBEAT_URL,
      token: config.STRATAVORE_RUNNER_TOKEN,
      timeoutMs: Math.min(10_000, Math.max(1_000, args.intervalMs)),
    }),
    launcher: new NodeChildLauncher({
      cwd,
      env,
      logFile: childLogFile(config),
      logger: options.logger,
      ...(claude === null ? {} : { stdoutLines: claude }),
      ...(config.STRATAVORE_PROMPT === undefined ? {} : { stdinText: config.STRATAVORE_PROMPT }),
    }),
    sampler: new ProcfsTreeSampler(),
    usage: claude ?? new ZeroUsageSource(),
    clock: new SystemClock(),
    scheduler: new TimerScheduler(),
    random: Math.random,
    logger: options.logger,
    ...options.overrides,
  };
  const transcripts = transcriptUploadsFor(config, deps);
  const outcome = new RunnerSupervisor(
    {
      runnerId: config.STRATAVORE_RUNNER_ID,
      command: hooks?.command ?? args.command,
      agentVersion: AGENT_VERSION,
      intervalMs: args.intervalMs,
      stopTimeoutMs: args.stopTimeoutMs,
      finalReportTimeoutMs: args.finalReportTimeoutMs,
      stopSignal: options.stopSignal,
      onFirstHeartbeat: options.onFirstHeartbeat,
    },
    transcripts === null ? deps : { ...deps, launcher: transcripts.launcher },
  ).run();
  try {
    // The agent exits once the last transcript upload is done too (or its deadline passed).
    return await (transcripts === null
      ? outcome
      : outcome.then(async (result) => {
          await transcripts.finish();
          return result;
        }));
  } finally {
    await hooks?.listener?.stop();
    if (claude !== null && hooks?.listener) {
      options.logger.info({ hooks: claude.activity.hookCounts() }, 'Claude Code hooks received');
    }
  }
}

/**
 * False when `command` surely does not run Claude Code: `claudeProgramIndex` of
 * `@stratavore/claude-code` finds it only in the first or second argument, always with "claude"
 * in it.
 */
function mayRunClaudeCode(command: readonly string[]): boolean {
  return command.slice(0, 2).some((arg) => /claude/i.test(arg));
}
