import { claudeHeadlessCommand, isClaudeCodeCommand } from '@stratavore/claude-code';
import {
  DEFAULT_RESUME_PROMPT,
  type PlannedRestartState,
  type RestartPolicy,
  type RestartReason,
} from '@stratavore/contracts';

import { type Runner } from './runner';
import { isTerminal } from './runner-state';

export { type PlannedRestartState, type RestartPolicy, type RestartReason };

/** Where a runner runs, how it came to be launched, and what happens when it fails. */
export interface RunnerOrigin {
  /** The agent command's working directory; `null`: the project's path. */
  readonly cwd: string | null;
  /** The Claude session it resumes (`claude --resume <id>`). */
  readonly resumedFrom: string | null;
  readonly restartPolicy: RestartPolicy;
  /** Restarts allowed in its chain (0 with policy `no`). */
  readonly maxRestarts: number;
  /** The ended runner it replaces. */
  readonly restartOf: string | null;
  /** Restarts that led to it: 0 for the original launch. */
  readonly restarts: number;
}

/** A launch by a user: no restart policy, nothing resumed, the project's path. */
export const FRESH_LAUNCH: RunnerOrigin = Object.freeze({
  cwd: null,
  resumedFrom: null,
  restartPolicy: 'no',
  maxRestarts: 0,
  restartOf: null,
  restarts: 0,
});

/** A relaunch planned for an ended runner (`runner.planned_restarts`). */
export interface PlannedRestart {
  readonly id: string;
  /** The ended runner. */
  readonly runnerId: string;
  readonly projectId: string;
  /** `runner.restarts + 1`. */
  readonly attempt: number;
  readonly restartAt: Date;
  readonly reason: RestartReason;
  /** The session the replacement resumes; `null`: it runs the command afresh. */
  readonly resumeSessionId: string | null;
  readonly state: PlannedRestartState;
  /** The replacement runner (`launched`) or queued launch (`queued`). */
  readonly replacementId: string | null;
  readonly detail: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Exponential backoff between restarts. */
export interface RestartBackoff {
  /** The step before the first restart. */
  readonly baseMs: number;
  /** No step is longer. */
  readonly maxMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = Object.freeze({
  baseMs: 5_000,
  maxMs: 300_000,
});

/**
 * The wait before restart number `attempt` (1, 2, ...): the step `baseMs * 2^(attempt-1)`,
 * capped at `maxMs`, with "equal jitter": half of the step fixed, half random, so that runners
 * failing together do not come back together, and none comes back sooner than half its step.
 * `random` returns a number in [0, 1).
 */
export function restartBackoffMs(
  attempt: number,
  backoff: RestartBackoff,
  random: () => number,
): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** Result subtypes of limits the user set (`--max-turns`, `--max-budget-usd`): not failures. */
const LIMITS_SET_BY_USER = new Set(['error_max_turns', 'error_max_budget_usd']);

export type RestartDecision =
  | { readonly kind: 'none'; readonly why: string }
  | {
      readonly kind: 'schedule';
      readonly attempt: number;
      readonly restartAt: Date;
      readonly reason: RestartReason;
      readonly resumeSessionId: string | null;
    };

/**
 * Whether an ended runner earns a replacement (docs/runners.md, "Restart policy"): only with
 * policy `on-failure`, below `maxRestarts`, and only when it failed, not when it was stopped
 * (by a user or a budget), failed for a budget, completed, or reached a limit set for it
 * (`error_max_turns`, `error_max_budget_usd`). A usage-limit stop (a session result with
 * `resumeAt`) is planned at the reset time, whether the process failed or exited 0; any other
 * failure after the backoff. A Claude runner whose session is known resumes it.
 */
export function decideRestart(
  runner: Runner,
  now: Date,
  backoff: RestartBackoff,
  random: () => number,
): RestartDecision {
  if (runner.restartPolicy === 'no') return { kind: 'none', why: 'restart policy no' };
  if (!isTerminal(runner.state)) return { kind: 'none', why: `runner is ${runner.state}` };
  if (runner.state === 'stopped' || runner.desiredState !== 'run') {
    return { kind: 'none', why: 'stopped on request' };
  }
  if (runner.failureReason === 'budget_exceeded') {
    return { kind: 'none', why: 'refused by a budget' };
  }
  const result = runner.sessionResult;
  if (result !== null && LIMITS_SET_BY_USER.has(result.subtype)) {
    return { kind: 'none', why: `reached a limit set for it (${result.subtype})` };
  }
  const resetAt = result?.resumeAt === null || result === null ? null : new Date(result.resumeAt);
  if (runner.state === 'completed' && resetAt === null) return { kind: 'none', why: 'completed' };
  if (runner.restarts >= runner.maxRestarts) {
    return { kind: 'none', why: `restart limit reached (${runner.maxRestarts})` };
  }
  const attempt = runner.restarts + 1;
  return {
    kind: 'schedule',
    attempt,
    restartAt:
      resetAt === null
        ? new Date(now.getTime() + restartBackoffMs(attempt, backoff, random))
        : new Date(Math.max(now.getTime(), resetAt.getTime())),
    reason: resetAt === null ? 'backoff' : 'usage_limit',
    resumeSessionId: resumableSessionOf(runner),
  };
}

/** The session a replacement of `runner` resumes: its own, else the one it resumed itself. */
export function resumableSessionOf(runner: Runner): string | null {
  if (!isClaudeCodeCommand(runner.command)) return null;
  return runner.sessionId ?? runner.resumedFrom;
}

const MAX_BUDGET_FLAG = '--max-budget-usd';

/**
 * The command without a `--max-budget-usd <amount>` pair at its very end, where runner-manager
 * appends the USD left in the budgets at launch: a relaunch gets a fresh figure.
 */
function withoutLaunchBudgetCap(command: readonly string[]): readonly string[] {
  return command.length >= 2 && command[command.length - 2] === MAX_BUDGET_FLAG
    ? command.slice(0, -2)
    : command;
}

/** What the replacement of `runner` runs. */
export interface RestartLaunch {
  readonly command: readonly string[];
  readonly prompt: string | null;
  readonly resumedFrom: string | null;
}

/**
 * The replacement's command: with a session to resume, the runner's Claude command with
 * `--resume <session>` (any earlier session choice replaced) and the prompt `continue`;
 * otherwise the same command and prompt, afresh.
 */
export function restartLaunchOf(runner: Runner, resumeSessionId: string | null): RestartLaunch {
  const command = withoutLaunchBudgetCap(runner.command);
  if (resumeSessionId !== null) {
    const resumed = claudeHeadlessCommand(command, { resume: resumeSessionId });
    if (resumed !== null) {
      return { command: resumed, prompt: DEFAULT_RESUME_PROMPT, resumedFrom: resumeSessionId };
    }
  }
  return { command, prompt: runner.prompt, resumedFrom: runner.resumedFrom };
}
