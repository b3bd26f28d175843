import { isClaudeCodeCommand } from '@stratavore/claude-code';
import { type BudgetShortfall } from '@stratavore/contracts';

import { type Project } from './project';
import { type RunnerMode } from './runner';
import { RunnerErrorCode, RunnerException } from './runner.exception';

/** What a launch reserves in the budgets covering its project. */
export interface LaunchEstimate {
  readonly tokens: number;
  readonly usd: number;
}

/** No estimate: a launch reserves nothing, but still needs an open budget. */
export const NO_ESTIMATE: LaunchEstimate = { tokens: 0, usd: 0 };

/**
 * The estimate of one launch: its own override per dimension, else the project's default, else
 * the service's default (`BUDGET_DEFAULT_ESTIMATE_TOKENS` / `_USD`, 0 unless set). A zero
 * estimate still needs an open budget: an exhausted hard budget refuses it.
 */
export function launchEstimate(
  overrides: { readonly estimateTokens?: number | null; readonly estimateUsd?: number | null },
  project: Pick<Project, 'estimateTokens' | 'estimateUsd'>,
  fallback: LaunchEstimate = NO_ESTIMATE,
): LaunchEstimate {
  return {
    tokens: overrides.estimateTokens ?? project.estimateTokens ?? fallback.tokens,
    usd: overrides.estimateUsd ?? project.estimateUsd ?? fallback.usd,
  };
}

/** budget-service's refusal of a reservation, as runner-manager passes it on. */
export interface BudgetRefusal {
  readonly reservationId: string;
  /** budget-service's sentence: budget, limit, used, reserved, left, period end. */
  readonly message: string;
  readonly refusals: readonly BudgetShortfall[];
}

/** BudgetExceeded with budget-service's full message and the structured refusal in `details`. */
export function budgetExceeded(
  project: Pick<Project, 'id' | 'name'>,
  estimate: LaunchEstimate,
  refusal: BudgetRefusal,
): RunnerException {
  return new RunnerException(RunnerErrorCode.BudgetExceeded, refusal.message, {
    project: project.name,
    projectId: project.id,
    reservationId: refusal.reservationId,
    estimate: { tokens: estimate.tokens, usd: estimate.usd },
    refusals: refusal.refusals,
  });
}

/** BudgetUnavailable: budgets are enforced and budget-service gave no usable answer. */
export function budgetUnavailable(project: Pick<Project, 'name'>, reason: string): RunnerException {
  return new RunnerException(
    RunnerErrorCode.BudgetUnavailable,
    `budget-service unavailable: ${reason}; the launch in project ${project.name} was not started, since budgets are enforced (BUDGETS=enforce)`,
    { project: project.name, reason },
  );
}

const MAX_BUDGET_FLAG = '--max-budget-usd';

/**
 * A headless Claude Code runner's command (`claude`, or Claude Code through node/npx) with
 * `--max-budget-usd <left>` appended, so Claude Code
 * itself stops at the USD left in the tightest hard budget between two heartbeats. Unchanged
 * for any other command, an interactive runner, no USD limit (`null`), or a command that sets
 * the flag already (the user's own cap wins).
 */
export function withMaxBudgetUsd(
  command: readonly string[],
  mode: RunnerMode,
  leftUsd: number | null,
): readonly string[] {
  if (leftUsd === null || mode !== 'headless' || !isClaudeCodeCommand(command)) return command;
  if (command.some((arg) => arg === MAX_BUDGET_FLAG || arg.startsWith(`${MAX_BUDGET_FLAG}=`))) {
    return command;
  }
  // Six decimals at most (budget-service keeps micro-dollars); no exponent notation.
  const amount = String(Math.floor(leftUsd * 1e6) / 1e6);
  return [...command, MAX_BUDGET_FLAG, amount];
}
