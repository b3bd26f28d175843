/**
 * The zod schema of the agent's environment: the reference for what `loadAgentConfig` accepts and
 * the source of its errors. Loaded only when the environment needs it (a problem to report, or
 * `STRATAVORE_CLAUDE_PRICING`), not on a normal start (see agent-config.ts).
 */
import { isAbsolute } from 'node:path';

import {
  ClaudeCodeException,
  type PricingTable,
  resolvePricingTable,
} from '@stratavore/claude-code';
import { bool, duration, type Environment, loadConfig, logLevel, url } from '@stratavore/config';
import { z } from 'zod';

/** JSON pricing overrides (docs/claude-code.md) resolved against the shipped table. */
const claudePricing = () =>
  z
    .string()
    .transform((raw, ctx): PricingTable => {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object of pricing overrides' });
        return z.NEVER;
      }
      try {
        return resolvePricingTable(value);
      } catch (error) {
        if (!(error instanceof ClaudeCodeException)) throw error;
        for (const issue of error.details?.issues ?? []) {
          ctx.addIssue({ code: 'custom', message: `${issue.field}: ${issue.message}` });
        }
        return z.NEVER;
      }
    })
    .optional();

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
  /**
   * `STRATAVORE_CLAUDE_PRICING`: JSON overrides of the Claude pricing table the agent prices
   * sessions with (`{"models":[{"id":"claude-sonnet-4-5","rates":{...}}]}`). Default: the table
   * shipped with `@stratavore/claude-code`.
   */
  STRATAVORE_CLAUDE_PRICING: claudePricing(),
  /**
   * `STRATAVORE_PROMPT`: the runner's prompt, written to the child's stdin (then closed); the
   * child does not see the variable. Unset: stdin is /dev/null.
   */
  STRATAVORE_PROMPT: z.string().optional(),
  /**
   * `STRATAVORE_TRANSCRIPT_URL`: base URL of session-store for transcript uploads. Default the
   * heartbeat URL (the single-node daemon serves both).
   */
  STRATAVORE_TRANSCRIPT_URL: url(['http', 'https']).optional(),
  /** `STRATAVORE_TRANSCRIPT_UPLOAD`: `false` keeps Claude transcripts on this machine only. */
  STRATAVORE_TRANSCRIPT_UPLOAD: bool().optional(),
  /** `STRATAVORE_TRANSCRIPT_INTERVAL`: between uploads of changed transcripts. Default 1m. */
  STRATAVORE_TRANSCRIPT_INTERVAL: duration()
    .refine((ms) => ms >= 1_000, { error: 'expected at least 1s' })
    .optional(),
  /** `STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT`: how long the last upload may retry. Default 1m. */
  STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT: duration().optional(),
});

/** `loadAgentConfig` through the schema (agent-config.ts). */
export function loadAgentConfigWithSchema(env: Environment): z.output<typeof agentConfigSchema> {
  return loadConfig(agentConfigSchema, env, { app: 'stratavore-agent' });
}
