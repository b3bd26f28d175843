import { duration, url } from '@stratavore/config';
import { type LaunchEstimate } from '@stratavore/runner-manager-domain';
import { z } from 'zod';

import { type RunnerRestartOptions } from './runner-manager.module';

/**
 * runner-manager's own variables (all optional):
 * `AGENT_MAIN_PATH` (the `stratavore-agent` entry point the local launcher starts; default: the
 * agent built beside the app), `HEARTBEAT_URL` (where agents report; default
 * heartbeat-ingest on `http://127.0.0.1:7414`, the daemon's own URL in the daemon),
 * `TRANSCRIPT_URL` (where agents upload Claude transcripts: session-store; default the heartbeat
 * URL, which is right for the daemon), `RUNNER_LOG_DIR` (agent and runner output) and `HEARTBEAT_INTERVAL` (default 10s).
 * `BUDGETS` (`enforce`, the default: every launch reserves its estimate in budget-service first
 * and fails when budget-service refuses or cannot be reached, and hard budgets stop runners when
 * exceeded; `off`: runner-manager never asks budget-service) and `BUDGET_REQUEST_TIMEOUT` (how
 * long a reservation may take, default 5s; docs/budgets.md), `BUDGET_DEFAULT_ESTIMATE_TOKENS` and
 * `BUDGET_DEFAULT_ESTIMATE_USD` (what a launch reserves when neither it nor its project sets an
 * estimate; default 0).
 * `RESTART_BACKOFF_BASE` / `RESTART_BACKOFF_MAX` (the wait before the first restart of a failed
 * runner with `--restart on-failure`, doubling per restart up to the maximum, with jitter;
 * default 5s and 5m) and `RESTART_CHECK_INTERVAL` (how often the leader relaunches due
 * restarts, default 2s; docs/runners.md, "Restart policy").
 * `WORKTREE_DIR` (where `--worktree` launches get their git worktree,
 * `<dir>/<project>/<runner id>`; default `<data dir>/worktrees`; docs/worktrees.md).
 */
export const runnerManagerEnvSchema = z.object({
  AGENT_MAIN_PATH: z.string().min(1).optional(),
  HEARTBEAT_URL: url(['http', 'https']).optional(),
  /** Where agents upload Claude transcripts (session-store); default: the heartbeat URL. */
  TRANSCRIPT_URL: url(['http', 'https']).optional(),
  RUNNER_LOG_DIR: z.string().min(1).optional(),
  WORKTREE_DIR: z
    .string()
    .regex(/^\//, { error: 'expected an absolute path (starting with /)' })
    .optional(),
  HEARTBEAT_INTERVAL: duration().default(10_000),
  BUDGETS: z.enum(['enforce', 'off'], { error: 'expected enforce or off' }).default('enforce'),
  BUDGET_REQUEST_TIMEOUT: duration().default(5_000),
  BUDGET_DEFAULT_ESTIMATE_TOKENS: z.coerce
    .number({ error: 'expected a whole number of tokens' })
    .int({ error: 'expected a whole number of tokens' })
    .nonnegative({ error: 'expected 0 or more tokens' })
    .default(0),
  BUDGET_DEFAULT_ESTIMATE_USD: z.coerce
    .number({ error: 'expected an amount in USD, e.g. 2.50' })
    .nonnegative({ error: 'expected 0 or more USD' })
    .default(0),
  RESTART_BACKOFF_BASE: duration().default(5_000),
  RESTART_BACKOFF_MAX: duration().default(300_000),
  RESTART_CHECK_INTERVAL: duration().default(2_000),
});

export type RunnerManagerEnv = z.output<typeof runnerManagerEnvSchema>;

/** The launch estimate of projects that set none, from the environment. */
export function defaultLaunchEstimateFromEnv(
  env: Pick<RunnerManagerEnv, 'BUDGET_DEFAULT_ESTIMATE_TOKENS' | 'BUDGET_DEFAULT_ESTIMATE_USD'>,
): LaunchEstimate {
  return { tokens: env.BUDGET_DEFAULT_ESTIMATE_TOKENS, usd: env.BUDGET_DEFAULT_ESTIMATE_USD };
}

/** The restart options of the runner-manager module from the environment. */
export function runnerRestartOptionsFromEnv(
  env: Pick<
    RunnerManagerEnv,
    'RESTART_BACKOFF_BASE' | 'RESTART_BACKOFF_MAX' | 'RESTART_CHECK_INTERVAL'
  >,
): RunnerRestartOptions {
  return {
    backoff: {
      baseMs: env.RESTART_BACKOFF_BASE,
      maxMs: Math.max(env.RESTART_BACKOFF_BASE, env.RESTART_BACKOFF_MAX),
    },
    checkIntervalMs: env.RESTART_CHECK_INTERVAL,
  };
}
