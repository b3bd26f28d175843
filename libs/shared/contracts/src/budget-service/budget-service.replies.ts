import { z } from 'zod';

import {
  budgetPeriodSchema,
  budgetScopeSchema,
  enforcementSchema,
  tokenKindSchema,
} from './budget-service.requests';

const timestamp = z.iso.datetime({ offset: true });
const tokens = z.number().int().nonnegative();
const usd = z.number().nonnegative();

/** An amount in both dimensions; `null` where the budget has no limit in that dimension. */
export const limitAmountsSchema = z.object({
  tokens: tokens.nullable(),
  usd: usd.nullable(),
});

/** An amount in both dimensions (used, reserved, carried over). */
export const amountsSchema = z.object({ tokens, usd });

/** The anchor as stored: every field resolved (docs/budgets.md, "Periods"). */
export const periodAnchorSchema = z.object({
  weekStartsOn: z.number().int().min(1).max(7),
  monthDay: z.number().int().min(1).max(31),
  timeOfDay: z.string(),
});

/** `ok` below the first threshold, `warning` past one, `exceeded` at or past the limit. */
export const budgetStatusSchema = z.enum(['ok', 'warning', 'exceeded']);

/**
 * One budget with its current period. `limits` are the configured limits; `carryOver` what the
 * previous period rolled into this one; `left = limits + carryOver - used - reserved` (never
 * below 0, `null` when that dimension has no limit). `ratio` is used / (limits + carryOver), the
 * larger of the two dimensions.
 */
export const budgetViewSchema = z.object({
  id: z.uuid(),
  scope: budgetScopeSchema,
  limits: limitAmountsSchema,
  tokenKinds: z.array(tokenKindSchema),
  period: budgetPeriodSchema,
  timeZone: z.string(),
  periodAnchor: periodAnchorSchema,
  warnThresholds: z.array(z.number()),
  rollover: z.object({
    enabled: z.boolean(),
    capTokens: tokens.nullable(),
    capUsd: usd.nullable(),
  }),
  enforcement: enforcementSchema,
  periodStart: timestamp,
  /** `null` for `period: none`. */
  periodEnd: timestamp.nullable(),
  carryOver: amountsSchema,
  used: amountsSchema,
  reserved: amountsSchema,
  left: limitAmountsSchema,
  ratio: z.number().nonnegative(),
  /** Thresholds that fired in this period (fractions), ascending. */
  thresholdsFired: z.array(z.number()),
  status: budgetStatusSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const setBudgetReplySchema = z.object({
  created: z.boolean(),
  /** The period, time zone or anchor changed: a new period started now from zero. */
  rebaselined: z.boolean(),
  budget: budgetViewSchema,
});

export const budgetListReplySchema = z.object({ budgets: z.array(budgetViewSchema) });

export const removeBudgetReplySchema = z.object({ removed: budgetViewSchema });

/**
 * One budget that cannot (hard) or should not (soft) take an estimate: names the budget, its
 * limit (with what was carried over), used, reserved, left, what was asked and when the period
 * ends, in the dimension that fell short; `message` says it in one sentence.
 */
export const budgetShortfallSchema = z.object({
  budgetId: z.uuid(),
  scope: budgetScopeSchema,
  enforcement: enforcementSchema,
  period: budgetPeriodSchema,
  dimension: z.enum(['tokens', 'usd']),
  limit: z.number().nonnegative(),
  carryOver: z.number().nonnegative(),
  used: z.number().nonnegative(),
  reserved: z.number().nonnegative(),
  left: z.number().nonnegative(),
  requested: z.number().nonnegative(),
  periodEnd: timestamp.nullable(),
  message: z.string(),
});

export const checkBudgetReplySchema = z.object({
  /** False when a hard budget falls short. */
  allowed: z.boolean(),
  refusals: z.array(budgetShortfallSchema),
  /** Soft budgets that fall short: the launch is allowed, with a warning. */
  softOverruns: z.array(budgetShortfallSchema),
  /** The budgets covering the project (none: unlimited). */
  budgets: z.array(budgetViewSchema),
  /** A ready-made sentence for people when not allowed; `null` when allowed. */
  message: z.string().nullable(),
});

/** What one budget holds for one reservation. */
export const budgetReservationSchema = z.object({
  budgetId: z.uuid(),
  scope: budgetScopeSchema,
  enforcement: enforcementSchema,
  tokens,
  usd,
  expiresAt: timestamp,
});

export const reserveBudgetReplySchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('granted'),
    reservationId: z.uuid(),
    /** One per covering budget; empty when no budget covers the project (unlimited). */
    reservations: z.array(budgetReservationSchema),
    /**
     * What the runner may spend before the tightest hard budget is reached (its own
     * reservation included); `null` when no hard budget limits that dimension. Headless Claude
     * runners get `--max-budget-usd` from `leftUsd`.
     */
    leftTokens: tokens.nullable(),
    leftUsd: usd.nullable(),
    softOverruns: z.array(budgetShortfallSchema),
  }),
  z.object({
    status: z.literal('refused'),
    reservationId: z.uuid(),
    /** At least one hard budget that cannot take the estimate. */
    refusals: z.array(budgetShortfallSchema).min(1),
    message: z.string(),
  }),
]);

export const releaseBudgetReplySchema = z.object({
  /** Reservation rows released now (one per budget); 0 when already released or expired. */
  released: z.number().int().nonnegative(),
});

/** Usage per token kind, plus the total of all kinds and the cost when reported. */
export const usageTotalsSchema = z.object({
  inputTokens: tokens,
  outputTokens: tokens,
  cacheCreationTokens: tokens,
  cacheReadTokens: tokens,
  totalTokens: tokens,
  costUsd: usd,
  /** `usage.reported` events booked. */
  events: z.number().int().nonnegative(),
});

export const usageDaySchema = usageTotalsSchema.extend({
  /** The local day (`YYYY-MM-DD`) in the summary's time zone. */
  day: z.string(),
  projectId: z.uuid(),
});

export const usageSummaryReplySchema = z.object({
  from: timestamp,
  to: timestamp,
  timeZone: z.string(),
  /** The budgets in view (all, or those covering `projectId`) with their current periods. */
  budgets: z.array(budgetViewSchema),
  /** Ordered by day, then project. */
  days: z.array(usageDaySchema),
  totals: usageTotalsSchema,
});

/** The reply schema of each pattern. */
export const budgetServiceReplySchemas = {
  'budgets.set': setBudgetReplySchema,
  'budgets.list': budgetListReplySchema,
  'budgets.get': budgetViewSchema,
  'budgets.remove': removeBudgetReplySchema,
  'budgets.check': checkBudgetReplySchema,
  'budgets.reserve': reserveBudgetReplySchema,
  'budgets.release': releaseBudgetReplySchema,
  'usage.summary': usageSummaryReplySchema,
} as const;

export type LimitAmounts = z.output<typeof limitAmountsSchema>;
export type Amounts = z.output<typeof amountsSchema>;
export type PeriodAnchor = z.output<typeof periodAnchorSchema>;
export type BudgetStatus = z.output<typeof budgetStatusSchema>;
export type BudgetView = z.output<typeof budgetViewSchema>;
export type SetBudgetReply = z.output<typeof setBudgetReplySchema>;
export type BudgetListReply = z.output<typeof budgetListReplySchema>;
export type RemoveBudgetReply = z.output<typeof removeBudgetReplySchema>;
export type BudgetShortfall = z.output<typeof budgetShortfallSchema>;
export type CheckBudgetReply = z.output<typeof checkBudgetReplySchema>;
export type BudgetReservation = z.output<typeof budgetReservationSchema>;
export type ReserveBudgetReply = z.output<typeof reserveBudgetReplySchema>;
export type ReleaseBudgetReply = z.output<typeof releaseBudgetReplySchema>;
export type UsageTotals = z.output<typeof usageTotalsSchema>;
export type UsageDay = z.output<typeof usageDaySchema>;
export type UsageSummaryReply = z.output<typeof usageSummaryReplySchema>;
