import { homedir } from 'node:os';
import { join } from 'node:path';

import { HttpHeartbeatClient } from '@stratavore/api-client/heartbeat';
import { claudeSessionChoice } from '@stratavore/claude-code';
import { SystemClock } from '@stratavore/core';

import { type AgentArgs } from './agent-args';
import { type AgentConfig } from './agent-config';
import { type AgentLogger } from './agent-logger';
import { childEnvironment } from './child-process';
import { type ClaudeHookListener, installClaudeHooks } from './claude-hooks';
import { ClaudeInteractiveUsageSource } from './claude-interactive-usage-source';
import { ProcfsTreeSampler } from './process-tree-sampler';
import { AGENT_VERSION } from './run-agent';
import {
  type AgentOutcome,
  RunnerSupervisor,
  type RunnerSupervisorDeps,
} from './runner-supervisor';
import { TimerScheduler } from './scheduler';
import { TerminalChildLauncher } from './terminal-child-launcher';
import { transcriptUploadsFor } from './transcript-uploader';
import { type UsageSource, ZeroUsageSource } from './usage-source';

export interface RunInteractiveAgentOptions {
  readonly args: AgentArgs;
  readonly config: AgentConfig;
  readonly logger: AgentLogger;
  /** Aborted when the agent is asked to stop (SIGTERM, SIGHUP); never by the terminal's Ctrl-C. */
  readonly stopSignal?: AbortSignal;
  /** The child's working directory; default the agent's own. */
  readonly cwd?: string;
  /** The agent's environment; the child gets it without the runner token. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces a real collaborator (tests). */
  readonly overrides?: Partial<RunnerSupervisorDeps>;
}

/** Claude Code's configuration directory for `env`: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
export function claudeConfigDir(env: NodeJS.ProcessEnv): string {
  return env.CLAUDE_CONFIG_DIR ?? join(env.HOME ?? homedir(), '.claude');
}

/**
 * The agent of an attached runner (`stratavore run`): runs the command in the user's terminal
 * (stdio inherited, same process group: {@link TerminalChildLauncher}) and reports heartbeats
 * for it as usual; the runner ends with the command's exit code. A Claude Code command gets the
 * agent's hooks (`--settings`, {@link withHookSettings}) posting to a listener on 127.0.0.1, and
 * its usage and session id from the transcript files under the Claude config directory
 * ({@link ClaudeInteractiveUsageSource}); any other command gets heartbeats and resource use.
 */
export async function runInteractiveAgent(
  options: RunInteractiveAgentOptions,
): Promise<AgentOutcome> {
  const { args, config, logger } = options;
  const cwd = options.cwd ?? process.cwd();
  const env = childEnvironment(options.env ?? process.env);
  let command = args.command;
  let usage: UsageSource = new ZeroUsageSource();
  let claude: ClaudeInteractiveUsageSource | null = null;
  let hooks: ClaudeHookListener | null = null;

  const choice = claudeSessionChoice(command);
  if (choice !== null) {
    const source = new ClaudeInteractiveUsageSource({
      cwd,
      configDir: claudeConfigDir(env),
      sessionId: choice.sessionId,
      resumedFrom: choice.resumedFrom,
      mode: choice.print ? 'headless' : 'interactive',
      ...(config.STRATAVORE_CLAUDE_PRICING === undefined
        ? {}
        : { pricing: config.STRATAVORE_CLAUDE_PRICING }),
      logger,
    });
    claude = source;
    usage = source;
    const installed = await installClaudeHooks(command, cwd, (input) => source.hook(input), logger);
    command = installed.command;
    hooks = installed.listener;
    logger.info(
      { sessionId: choice.sessionId, resumedFrom: choice.resumedFrom, hooks: hooks !== null },
      'following the Claude Code transcript for usage',
    );
  }

  const deps: RunnerSupervisorDeps = {
    client: new HttpHeartbeatClient({
      baseUrl: config.STRATAVORE_HEARTBEAT_URL,
      token: config.STRATAVORE_RUNNER_TOKEN,
      timeoutMs: Math.min(10_000, Math.max(1_000, args.intervalMs)),
    }),
    launcher: new TerminalChildLauncher({ cwd, env }),
    sampler: new ProcfsTreeSampler(),
    usage,
    clock: new SystemClock(),
    scheduler: new TimerScheduler(),
    random: Math.random,
    logger,
    ...options.overrides,
  };
  // The session's transcript is uploaded as for a headless run (periodically, and at the end).
  const transcripts = transcriptUploadsFor(config, deps);
  try {
    const outcome = await new RunnerSupervisor(
      {
        runnerId: config.STRATAVORE_RUNNER_ID,
        command,
        agentVersion: AGENT_VERSION,
        intervalMs: args.intervalMs,
        stopTimeoutMs: args.stopTimeoutMs,
        finalReportTimeoutMs: args.finalReportTimeoutMs,
        stopSignal: options.stopSignal,
      },
      transcripts === null ? deps : { ...deps, launcher: transcripts.launcher },
    ).run();
    await transcripts?.finish();
    return outcome;
  } finally {
    await hooks?.stop();
    claude?.end();
    if (hooks !== null && claude !== null) {
      logger.info({ hooks: claude.activity.hookCounts() }, 'Claude Code hooks received');
    }
  }
}
