import { isAbsolute } from 'node:path';

import { type ConfigError, type Environment } from '@stratavore/config';

import { type agentConfigSchema } from './agent-config.schema';
import { parseDurationMs } from './duration';

// `z.output` without importing zod's value: this file is on the agent's way to its first heartbeat.
export type AgentConfig = ReturnType<(typeof agentConfigSchema)['parse']>;

const LOG_LEVELS: ReadonlySet<string> = new Set([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);
const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);
// zod's `z.uuid()` pattern without its two special values (those take the schema's path).
const UUID =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

/**
 * Validates the agent's environment.
 *
 * A usual environment is checked by hand, without zod (~40 ms of CPU to load on the agent's way
 * to its first heartbeat, docs/benchmarks.md, "launch"); anything that check does not accept
 * for certain (a problem to report, or `STRATAVORE_CLAUDE_PRICING`, which the pricing schema
 * resolves) goes through `agentConfigSchema`, so the result and every error are the schema's.
 *
 * @throws ConfigError naming every missing or invalid variable at once (the token hidden).
 */
export function loadAgentConfig(env: Environment): AgentConfig {
  const config = usualAgentConfig(env);
  if (config !== null) return config;
  // Loaded here only: see above. A dynamic import would make this function asynchronous.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadAgentConfigWithSchema } = require('./agent-config.schema') as {
    loadAgentConfigWithSchema: (env: Environment) => AgentConfig;
  };
  return loadAgentConfigWithSchema(env);
}

/** True for the error `loadAgentConfig` throws (without loading `@stratavore/config`). */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError' && 'problems' in error;
}

/** What `agentConfigSchema` gives for `env` when every value is one it surely accepts, else null. */
function usualAgentConfig(env: Environment): AgentConfig | null {
  const runnerId = env.STRATAVORE_RUNNER_ID;
  const token = env.STRATAVORE_RUNNER_TOKEN;
  const heartbeatUrl = env.STRATAVORE_HEARTBEAT_URL;
  const logDir = env.STRATAVORE_LOG_DIR;
  const logLevel = env.STRATAVORE_AGENT_LOG_LEVEL?.trim().toLowerCase() ?? 'info';
  if (
    runnerId === undefined ||
    !UUID.test(runnerId) ||
    token === undefined ||
    token.length === 0 ||
    !isHttpUrl(heartbeatUrl) ||
    logDir === undefined ||
    !isAbsolute(logDir) ||
    !LOG_LEVELS.has(logLevel) ||
    env.STRATAVORE_CLAUDE_PRICING !== undefined
  ) {
    return null;
  }
  const config: Record<string, unknown> = {
    STRATAVORE_RUNNER_ID: runnerId,
    STRATAVORE_RUNNER_TOKEN: token,
    STRATAVORE_HEARTBEAT_URL: heartbeatUrl,
    STRATAVORE_LOG_DIR: logDir,
    STRATAVORE_AGENT_LOG_LEVEL: logLevel,
  };
  if (env.STRATAVORE_PROMPT !== undefined) config.STRATAVORE_PROMPT = env.STRATAVORE_PROMPT;
  const transcriptUrl = env.STRATAVORE_TRANSCRIPT_URL;
  if (transcriptUrl !== undefined) {
    if (!isHttpUrl(transcriptUrl)) return null;
    config.STRATAVORE_TRANSCRIPT_URL = transcriptUrl;
  }
  const upload = env.STRATAVORE_TRANSCRIPT_UPLOAD;
  if (upload !== undefined) {
    const word = upload.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) config.STRATAVORE_TRANSCRIPT_UPLOAD = true;
    else if (FALSE_WORDS.has(word)) config.STRATAVORE_TRANSCRIPT_UPLOAD = false;
    else return null;
  }
  const interval = env.STRATAVORE_TRANSCRIPT_INTERVAL;
  if (interval !== undefined) {
    const ms = parseDurationMs(interval);
    if (ms === null || ms < 1_000) return null;
    config.STRATAVORE_TRANSCRIPT_INTERVAL = ms;
  }
  const finalTimeout = env.STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT;
  if (finalTimeout !== undefined) {
    const ms = parseDurationMs(finalTimeout);
    if (ms === null) return null;
    config.STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT = ms;
  }
  return config as AgentConfig;
}

function isHttpUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const protocol = new URL(value).protocol.toLowerCase();
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
