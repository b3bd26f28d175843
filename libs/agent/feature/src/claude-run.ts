import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { transcriptRelativePath } from '@stratavore/claude-code';

import { type AgentConfig } from './agent-config';
import { type AgentLogger } from './agent-logger';
import { parseClaudeHeadlessCommand } from './claude-command';
import { ClaudeHeadlessUsageSource, type TranscriptLocator } from './claude-headless-usage-source';

/**
 * The Claude Code parts of `runAgent`, loaded by it only for a command that may run Claude Code
 * (they load `@stratavore/claude-code` and zod; docs/benchmarks.md, "launch").
 */
export { installClaudeHooks } from './claude-hooks';

/** The Claude headless adapter when the command is `claude -p ... --output-format stream-json`. */
export function claudeUsageSource(
  command: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  config: AgentConfig,
  logger: AgentLogger,
): ClaudeHeadlessUsageSource | null {
  const claude = parseClaudeHeadlessCommand(command);
  if (claude === null) return null;
  return new ClaudeHeadlessUsageSource({
    command: claude,
    cwd,
    ...(config.STRATAVORE_CLAUDE_PRICING === undefined
      ? {}
      : { pricing: config.STRATAVORE_CLAUDE_PRICING }),
    locateTranscript: transcriptOnDisk(env),
    logger,
  });
}

/** `$CLAUDE_CONFIG_DIR` (else `~/.claude`) of the child, `projects/<encoded cwd>/<id>.jsonl`. */
function transcriptOnDisk(env: NodeJS.ProcessEnv): TranscriptLocator {
  const configDir = env.CLAUDE_CONFIG_DIR ?? join(env.HOME ?? homedir(), '.claude');
  return (cwd, sessionId) => {
    const path = join(configDir, transcriptRelativePath(cwd, sessionId));
    return existsSync(path) ? path : null;
  };
}
