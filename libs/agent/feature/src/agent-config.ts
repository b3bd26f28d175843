import { isAbsolute } from 'node:path';

import { type Environment, loadConfig, logLevel, url } from '@stratavore/config';
import { z } from 'zod';

/** The agent's environment, as the launcher sets it. */
export const agentConfigSchema = z.object({
  /** `STRATAVORE_RUNNER_ID`: the runner this agent reports for. */
  STRATAVORE_RUNNER_ID: z.uuid(),
  /** `STRATAVORE_RUNNER_TOKEN`: bearer token for heartbeat-ingest; never printed, never passed on. */
  STRATAVORE_RUNNER_TOKEN: z.string().min(1),
  /** `STRATAVORE_HEARTBEAT_URL`: base URL of heartbeat-ingest (or the daemon). */
  STRATAVORE_HEARTBEAT_URL: url(['http', 'https']),
  /** `STRATAVORE_LOG_DIR`: absolute directory for `<runner-id>.log`. */
  STRATAVORE_LOG_DIR: z
    .string()
    .refine((value) => isAbsolute(value), { error: 'expected an absolute directory path' }),
  /** `STRATAVORE_AGENT_LOG_LEVEL`: the agent's own log level. Default `info`. */
  STRATAVORE_AGENT_LOG_LEVEL: logLevel().default('info'),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;

/**
 * Validates the agent's environment.
 *
 * @throws ConfigError naming every missing or invalid variable at once (the token hidden).
 */
export function loadAgentConfig(env: Environment): AgentConfig {
  return loadConfig(agentConfigSchema, env, { app: 'stratavore-agent' });
}
