import { type BudgetScope, type Enforcement } from '@stratavore/contracts';

import { type Amounts, type Budget, type BudgetFigures, microsToUsd } from './budget';

/** One budget that cannot (hard) or should not (soft) take an estimate, in one dimension. */
export interface Shortfall {
  readonly budgetId: string;
  readonly scope: BudgetScope;
  readonly enforcement: Enforcement;
  readonly dimension: 'tokens' | 'usd';
  /** Configured limit, carry-over, used, reserved, left and requested in the dimension's unit
   * (tokens, or micro-dollars for `usd`). */
  readonly limit: number;
  readonly carryOver: number;
  readonly used: number;
  readonly reserved: number;
  readonly left: number;
  readonly requested: number;
  readonly periodEnd: Date | null;
}

/**
 * Whether `budget` can hold `estimate` on top of what is used and reserved: per limited
 * dimension, `estimate <= left` and something is left at all (an exhausted budget refuses even a
 * zero estimate). Returns the shortfalls, empty when it fits.
 */
export function shortfallsOf(
  budget: Pick<Budget, 'id' | 'scope' | 'enforcement' | 'limits'>,
  figures: BudgetFigures,
  carryOver: Amounts,
  estimate: Amounts,
  periodEnd: Date | null,
): Shortfall[] {
  const shortfalls: Shortfall[] = [];
  const check = (
    dimension: 'tokens' | 'usd',
    limit: number | null,
    carry: number,
    used: number,
    reserved: number,
    left: number | null,
    requested: number,
  ) => {
    if (limit === null || left === null) return;
    if (left > 0 && requested <= left) return;
    shortfalls.push({
      budgetId: budget.id,
      scope: budget.scope,
      enforcement: budget.enforcement,
      dimension,
      limit,
      carryOver: carry,
      used,
      reserved,
      left,
      requested,
      periodEnd,
    });
  };
  check(
    'tokens',
    budget.limits.tokens,
    carryOver.tokens,
    figures.used.tokens,
    figures.reserved.tokens,
    figures.left.tokens,
    estimate.tokens,
  );
  check(
    'usd',
    budget.limits.usdMicros,
    carryOver.usdMicros,
    figures.used.usdMicros,
    figures.reserved.usdMicros,
    figures.left.usdMicros,
    estimate.usdMicros,
  );
  return shortfalls;
}

/** What a reservation still holds after its runner used `used` (never below 0). */
export function settle(remaining: Amounts, used: Amounts): Amounts {
  return {
    tokens: Math.max(0, remaining.tokens - used.tokens),
    usdMicros: Math.max(0, remaining.usdMicros - used.usdMicros),
  };
}

/** When a reservation lapses: `ttlMs` after it was made or its runner last reported usage. */
export function renewedExpiry(current: Date, at: Date, ttlMs: number): Date {
  return new Date(Math.max(current.getTime(), at.getTime() + ttlMs));
}

/** Who a scope is, for people. */
export function describeScope(scope: BudgetScope, projectName?: string): string {
  switch (scope.kind) {
    case 'global':
      return 'the global budget';
    case 'project':
      return `the budget of project ${projectName ?? scope.projectId}`;
  }
}

export function formatTokens(tokens: number): string {
  return `${Math.round(tokens).toLocaleString('en-US')} tokens`;
}

export function formatUsd(micros: number): string {
  const usd = microsToUsd(micros);
  const digits = usd !== 0 && Math.abs(usd) < 0.01 ? 6 : 2;
  return `$${usd.toFixed(digits)}`;
}

/** One sentence naming the budget, its limit, used, reserved, left and the period's end. */
export function shortfallMessage(
  shortfall: Shortfall,
  period: string,
  projectName?: string,
): string {
  const format = shortfall.dimension === 'tokens' ? formatTokens : formatUsd;
  const limit =
    shortfall.carryOver > 0
      ? `${format(shortfall.limit)} (+${format(shortfall.carryOver)} carried over)`
      : format(shortfall.limit);
  const ends =
    shortfall.periodEnd === null
      ? 'the budget has no period end'
      : `the period ends at ${shortfall.periodEnd.toISOString()}`;
  const verdict =
    shortfall.left === 0 ? 'is exhausted' : `cannot take ${format(shortfall.requested)}`;
  return (
    `${capitalise(describeScope(shortfall.scope, projectName))} (${period}, ${shortfall.dimension}) ` +
    `${verdict}: limit ${limit}, used ${format(shortfall.used)}, reserved ` +
    `${format(shortfall.reserved)}, left ${format(shortfall.left)}, requested ` +
    `${format(shortfall.requested)}; ${ends}`
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Why a reservation stopped holding budget. */
export type ReleaseReason = 'released' | 'runner_ended' | 'expired';

/** What one budget holds for one launch. */
export interface ReservationRecord {
  readonly reservationId: string;
  readonly budgetId: string;
  readonly runnerId: string;
  readonly projectId: string;
  readonly estimate: Amounts;
  /** The estimate minus what the runner used since (never below 0). */
  readonly remaining: Amounts;
  readonly ttlMs: number;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly releasedAt: Date | null;
  readonly releaseReason: ReleaseReason | null;
}

/** Holds budget now: not released and not past its expiry. */
export function isHolding(reservation: ReservationRecord, now: Date): boolean {
  return reservation.releasedAt === null && reservation.expiresAt.getTime() > now.getTime();
}
