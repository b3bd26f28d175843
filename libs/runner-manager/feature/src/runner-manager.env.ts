import { duration, url } from '@stratavore/config';
import { z } from 'zod';

/**
 * runner-manager's own variables (all optional):
 * `AGENT_MAIN_PATH` (the `stratavore-agent` entry point the local launcher starts; default: the
 * agent built beside the app), `HEARTBEAT_URL` (where agents report; default
 * heartbeat-ingest on `http://127.0.0.1:7414`, the daemon's own URL in the daemon),
 * `RUNNER_LOG_DIR` (agent and runner output) and `HEARTBEAT_INTERVAL` (default 10s).
 */
export const runnerManagerEnvSchema = z.object({
  AGENT_MAIN_PATH: z.string().min(1).optional(),
  HEARTBEAT_URL: url(['http', 'https']).optional(),
  RUNNER_LOG_DIR: z.string().min(1).optional(),
  HEARTBEAT_INTERVAL: duration().default(10_000),
});

export type RunnerManagerEnv = z.output<typeof runnerManagerEnvSchema>;
