import {
  type BudgetPeriod,
  type BudgetScope,
  type BudgetStatus,
  type Enforcement,
  type TokenKind,
} from '@stratavore/contracts';

import { type PeriodAnchor, type PeriodRule } from './period';

/** USD amounts are kept as integer micro-dollars so that sums never drift. */
export type Micros = number;

export const MICROS_PER_USD = 1_000_000;

export function usdToMicros(usd: number): Micros {
  return Math.round(usd * MICROS_PER_USD);
}

export function microsToUsd(micros: Micros): number {
  return micros / MICROS_PER_USD;
}

/** An amount in both dimensions. */
export interface Amounts {
  readonly tokens: number;
  readonly usdMicros: Micros;
}

/** An amount in both dimensions, `null` where not limited. */
export interface LimitAmounts {
  readonly tokens: number | null;
  readonly usdMicros: Micros | null;
}

export const ZERO_AMOUNTS: Amounts = Object.freeze({ tokens: 0, usdMicros: 0 });

/** Usage per token kind, plus its cost. */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheCreation: number;
  readonly cacheRead: number;
  readonly usdMicros: Micros;
}

export const ZERO_USAGE: TokenUsage = Object.freeze({
  input: 0,
  output: 0,
  cacheCreation: 0,
  cacheRead: 0,
  usdMicros: 0,
});

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheCreation: a.cacheCreation + b.cacheCreation,
    cacheRead: a.cacheRead + b.cacheRead,
    usdMicros: a.usdMicros + b.usdMicros,
  };
}

export interface Rollover {
  readonly enabled: boolean;
  readonly capTokens: number | null;
  readonly capUsdMicros: Micros | null;
}

/** What `budgets.set` configures. */
export interface BudgetConfig {
  readonly scope: BudgetScope;
  readonly limits: LimitAmounts;
  readonly tokenKinds: readonly TokenKind[];
  readonly period: BudgetPeriod;
  readonly timeZone: string;
  readonly anchor: PeriodAnchor;
  readonly warnThresholds: readonly number[];
  readonly rollover: Rollover;
  readonly enforcement: Enforcement;
}

export interface Budget extends BudgetConfig {
  readonly id: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One period of one budget: the limits that applied, what rolled in, what was used. */
export interface BudgetPeriodState {
  readonly id: string;
  readonly budgetId: string;
  readonly start: Date;
  /** `null` for `period: none`. */
  readonly end: Date | null;
  /** The budget's configured limits while this period ran. */
  readonly limits: LimitAmounts;
  /** What the previous period carried into this one. */
  readonly carryOver: Amounts;
  readonly used: TokenUsage;
}

/** The key a scope is stored and locked under (`global`, `project:<uuid>`); one budget each. */
export function scopeKey(scope: BudgetScope): string {
  switch (scope.kind) {
    case 'global':
      return 'global';
    case 'project':
      return `project:${scope.projectId}`;
  }
}

/** The scopes whose budgets cover a launch or usage in `projectId`, broadest first. */
export function coveringScopes(projectId: string): BudgetScope[] {
  return [{ kind: 'global' }, { kind: 'project', projectId }];
}

export function periodRuleOf(budget: BudgetConfig): PeriodRule {
  return { period: budget.period, timeZone: budget.timeZone, anchor: budget.anchor };
}

/** The tokens of `usage` a budget counting `kinds` counts. */
export function countedTokens(usage: TokenUsage, kinds: readonly TokenKind[]): number {
  let total = 0;
  for (const kind of kinds) total += usage[kind];
  return total;
}

/** Used, as a budget counting `kinds` sees it. */
export function countedUsage(usage: TokenUsage, kinds: readonly TokenKind[]): Amounts {
  return { tokens: countedTokens(usage, kinds), usdMicros: usage.usdMicros };
}

/** Limit + carry-over per dimension; `null` where not limited. */
export function effectiveLimits(limits: LimitAmounts, carryOver: Amounts): LimitAmounts {
  return {
    tokens: limits.tokens === null ? null : limits.tokens + carryOver.tokens,
    usdMicros: limits.usdMicros === null ? null : limits.usdMicros + carryOver.usdMicros,
  };
}

/**
 * What `period` rolls into the next one: the unused part of its effective limit (limit +
 * its own carry-over - used), at most the cap, per dimension; nothing without rollover or in a
 * dimension with no limit.
 */
export function carryOverFrom(
  period: Pick<BudgetPeriodState, 'limits' | 'carryOver' | 'used'>,
  kinds: readonly TokenKind[],
  rollover: Rollover,
): Amounts {
  if (!rollover.enabled) return ZERO_AMOUNTS;
  const effective = effectiveLimits(period.limits, period.carryOver);
  const used = countedUsage(period.used, kinds);
  const carry = (limit: number | null, spent: number, cap: number | null) =>
    limit === null ? 0 : Math.min(Math.max(0, limit - spent), cap ?? Number.POSITIVE_INFINITY);
  return {
    tokens: carry(effective.tokens, used.tokens, rollover.capTokens),
    usdMicros: carry(effective.usdMicros, used.usdMicros, rollover.capUsdMicros),
  };
}

/** used / effective limit, the larger of the limited dimensions (0 with no limit). */
export function usedRatio(used: Amounts, effective: LimitAmounts): number {
  let ratio = 0;
  if (effective.tokens !== null) ratio = Math.max(ratio, used.tokens / effective.tokens);
  if (effective.usdMicros !== null) ratio = Math.max(ratio, used.usdMicros / effective.usdMicros);
  return ratio;
}

/** The dimensions at or past their effective limit. */
export function exceededDimensions(
  used: Amounts,
  effective: LimitAmounts,
): Array<'tokens' | 'usd'> {
  const dimensions: Array<'tokens' | 'usd'> = [];
  if (effective.tokens !== null && used.tokens >= effective.tokens) dimensions.push('tokens');
  if (effective.usdMicros !== null && used.usdMicros >= effective.usdMicros) dimensions.push('usd');
  return dimensions;
}

export function budgetStatus(ratio: number, thresholds: readonly number[]): BudgetStatus {
  if (ratio >= 1) return 'exceeded';
  if (thresholds.some((threshold) => ratio >= threshold)) return 'warning';
  return 'ok';
}

/** Thresholds `ratio` has reached that have not fired yet this period, ascending. */
export function thresholdsToFire(
  ratio: number,
  thresholds: readonly number[],
  fired: ReadonlySet<number>,
): number[] {
  return thresholds.filter((t) => ratio >= t && !fired.has(t)).sort((a, b) => a - b);
}

/**
 * Thresholds that stay fired when a limit changes mid-period: those the spend still reaches
 * under the new limits. The others are re-armed so that reaching them again warns again
 * (and a raised limit that is reached again is `budget.exceeded` again).
 */
export function firingsStillReached(fired: readonly number[], ratio: number): number[] {
  return fired.filter((threshold) => ratio >= threshold);
}

/** The exceeded firing is stored beside the warning thresholds as the threshold 1. */
export const EXCEEDED_THRESHOLD = 1;

/**
 * Whether a runner's usage just booked into a budget's open period overruns it: the budget is
 * hard, at or past its (effective) limit after the booking, and the booking moved what the
 * budget counts (tokens of its kinds, or USD). Such a runner is to be stopped (`budget.overrun`),
 * whether or not it was among the runners stopped when the budget was exceeded.
 */
export function overrunsBudget(enforcement: Enforcement, ratio: number, counted: Amounts): boolean {
  return (
    enforcement === 'hard' &&
    ratio >= EXCEEDED_THRESHOLD &&
    (counted.tokens > 0 || counted.usdMicros > 0)
  );
}

/** The figures of one budget in one period, with what is reserved in it now. */
export interface BudgetFigures {
  readonly effective: LimitAmounts;
  readonly used: Amounts;
  readonly reserved: Amounts;
  /** effective - used - reserved, never below 0; `null` where not limited. */
  readonly left: LimitAmounts;
  readonly ratio: number;
}

export function budgetFigures(
  budget: Pick<BudgetConfig, 'tokenKinds'>,
  period: Pick<BudgetPeriodState, 'limits' | 'carryOver' | 'used'>,
  reserved: Amounts,
): BudgetFigures {
  const effective = effectiveLimits(period.limits, period.carryOver);
  const used = countedUsage(period.used, budget.tokenKinds);
  const left = (limit: number | null, spent: number, held: number) =>
    limit === null ? null : Math.max(0, limit - spent - held);
  return {
    effective,
    used,
    reserved,
    left: {
      tokens: left(effective.tokens, used.tokens, reserved.tokens),
      usdMicros: left(effective.usdMicros, used.usdMicros, reserved.usdMicros),
    },
    ratio: usedRatio(used, effective),
  };
}

/** One `usage.reported` event as booked in the ledger. */
export interface UsageEntry {
  readonly eventId: string;
  readonly runnerId: string;
  readonly projectId: string;
  readonly sessionId: string | null;
  readonly model: string | null;
  readonly usage: TokenUsage;
  /** False when the event carried no cost (USD used does not move). */
  readonly hasCost: boolean;
  readonly observedAt: Date;
  readonly bookedAt: Date;
}
