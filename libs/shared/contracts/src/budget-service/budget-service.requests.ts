import { z } from 'zod';

/** The bus service name of budget-service (request/reply). */
export const BUDGET_SERVICE = 'budget-service';

/** Request patterns served by budget-service (docs/budgets.md, "API"). */
export const budgetServicePatterns = [
  'budgets.set',
  'budgets.list',
  'budgets.get',
  'budgets.remove',
  'budgets.check',
  'budgets.reserve',
  'budgets.release',
  'usage.summary',
] as const;

export const budgetServicePatternSchema = z.enum(budgetServicePatterns);
export type BudgetServicePattern = z.infer<typeof budgetServicePatternSchema>;

/** The token kinds a budget may count; a budget counts all of them unless told otherwise. */
export const TOKEN_KINDS = ['input', 'output', 'cacheCreation', 'cacheRead'] as const;
export const tokenKindSchema = z.enum(TOKEN_KINDS);
export type TokenKind = z.infer<typeof tokenKindSchema>;

export const BUDGET_PERIODS = ['daily', 'weekly', 'monthly', 'none'] as const;
export const budgetPeriodSchema = z.enum(BUDGET_PERIODS);
export type BudgetPeriod = z.infer<typeof budgetPeriodSchema>;

/** `hard`: refuse launches and stop the scope's runners when exceeded; `soft`: warn only. */
export const ENFORCEMENT_MODES = ['hard', 'soft'] as const;
export const enforcementSchema = z.enum(ENFORCEMENT_MODES);
export type Enforcement = z.infer<typeof enforcementSchema>;

export const DEFAULT_WARN_THRESHOLDS: readonly number[] = [0.5, 0.8, 0.95];
/** How long a reservation holds budget without news from its runner (1 hour). */
export const DEFAULT_RESERVATION_TTL_MS = 3_600_000;
export const MAX_RESERVATION_TTL_MS = 7 * 24 * 3_600_000;
/** Largest token amount accepted anywhere (fits PostgreSQL bigint and JS safe integers). */
export const MAX_TOKENS = 1e15;
/** Largest USD amount accepted anywhere (stored as micro-dollars). */
export const MAX_USD = 1e9;

const projectIdSchema = z.uuid({ error: 'expected a project id (uuid)' });

/**
 * What a budget covers. A discriminated union on `kind` so that more scopes (per model, per
 * team) can be added without touching the existing ones; a scope holds at most one budget.
 */
export const budgetScopeSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('global') }),
    z.strictObject({ kind: z.literal('project'), projectId: projectIdSchema }),
  ],
  { error: 'expected a scope: { kind: "global" } or { kind: "project", projectId }' },
);
export type BudgetScope = z.infer<typeof budgetScopeSchema>;

/** True when `zone` is an IANA time zone this runtime knows (`UTC`, `Europe/Berlin`). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone, normalised to the runtime's canonical spelling (`utc` -> `UTC`). */
export const timeZoneSchema = z
  .string({ error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .min(1, { error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .refine(isKnownTimeZone, { error: 'expected an IANA time zone such as UTC or Europe/Berlin' })
  .transform(
    (zone) => new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone,
  );

const tokensSchema = (what: string) =>
  z
    .number({ error: `expected ${what} as a whole number of tokens` })
    .int({ error: `expected ${what} as a whole number of tokens` })
    .max(MAX_TOKENS, { error: `expected at most ${MAX_TOKENS} tokens` });

const usdSchema = (what: string) =>
  z
    .number({ error: `expected ${what} in USD` })
    .max(MAX_USD, { error: `expected at most ${MAX_USD} USD` });

export const TIME_OF_DAY_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Where periods start, in the budget's time zone. `weekStartsOn` is an ISO weekday (1 = Monday
 * ... 7 = Sunday; default 1), `monthDay` the day of the month (default 1; a day past a month's
 * end means that month's last day), `timeOfDay` the local time `HH:MM` (default 00:00).
 * `startsAt` instead derives all three from one instant's local wall-clock time (periods repeat
 * from it). Only the fields the period uses matter.
 */
export const periodAnchorInputSchema = z
  .strictObject({
    weekStartsOn: z
      .number({ error: 'expected an ISO weekday: 1 (Monday) to 7 (Sunday)' })
      .int({ error: 'expected an ISO weekday: 1 (Monday) to 7 (Sunday)' })
      .min(1, { error: 'expected an ISO weekday: 1 (Monday) to 7 (Sunday)' })
      .max(7, { error: 'expected an ISO weekday: 1 (Monday) to 7 (Sunday)' })
      .optional(),
    monthDay: z
      .number({ error: 'expected a day of the month from 1 to 31' })
      .int({ error: 'expected a day of the month from 1 to 31' })
      .min(1, { error: 'expected a day of the month from 1 to 31' })
      .max(31, { error: 'expected a day of the month from 1 to 31' })
      .optional(),
    timeOfDay: z
      .string()
      .regex(TIME_OF_DAY_PATTERN, { error: 'expected a local time HH:MM (00:00 to 23:59)' })
      .optional(),
    startsAt: z.iso
      .datetime({ offset: true, error: 'expected an ISO 8601 date-time with offset' })
      .optional(),
  })
  .refine(
    (anchor) =>
      anchor.startsAt === undefined ||
      (anchor.weekStartsOn === undefined &&
        anchor.monthDay === undefined &&
        anchor.timeOfDay === undefined),
    {
      error: 'startsAt replaces weekStartsOn, monthDay and timeOfDay; give one or the other',
      path: ['startsAt'],
    },
  );
export type PeriodAnchorInput = z.output<typeof periodAnchorInputSchema>;

/** Warning thresholds as fractions of the limit, each in (0, 1); sorted, no duplicates. */
export const warnThresholdsSchema = z
  .array(
    z
      .number({ error: 'expected a fraction of the limit between 0 and 1 (0.8 = 80 %)' })
      .gt(0, { error: 'expected a fraction of the limit between 0 and 1 (0.8 = 80 %)' })
      .lt(1, { error: 'expected a fraction below 1 (reaching the limit is budget.exceeded)' }),
    { error: 'expected a list of fractions such as [0.5, 0.8, 0.95]' },
  )
  .max(10, { error: 'expected at most 10 thresholds' })
  .refine((values) => new Set(values).size === values.length, {
    error: 'expected each threshold once',
  })
  .transform((values) => [...values].sort((a, b) => a - b));

export const rolloverSchema = z.strictObject({
  /** Carry the unused part of a period's limit into the next period. */
  enabled: z.boolean({ error: 'expected true or false' }),
  /** Most tokens carried into one period; no cap when absent. */
  capTokens: tokensSchema('capTokens').nonnegative({ error: 'expected 0 or more' }).optional(),
  /** Most USD carried into one period; no cap when absent. */
  capUsd: usdSchema('capUsd').nonnegative({ error: 'expected 0 or more' }).optional(),
});
export type Rollover = z.output<typeof rolloverSchema>;

/**
 * `budgets.set`: creates the scope's budget, or replaces its whole configuration (fields left
 * out take their defaults). At least one of `limitTokens` / `limitUsd`. Changing the period,
 * time zone or anchor of a budget re-baselines it: a new period starts now, counting from zero.
 */
export const setBudgetRequestSchema = z
  .strictObject({
    scope: budgetScopeSchema,
    limitTokens: tokensSchema('limitTokens')
      .positive({ error: 'expected more than 0 tokens' })
      .optional(),
    limitUsd: usdSchema('limitUsd').positive({ error: 'expected more than 0 USD' }).optional(),
    tokenKinds: z
      .array(tokenKindSchema, {
        error: `expected a list of token kinds (${TOKEN_KINDS.join(', ')})`,
      })
      .min(1, { error: 'expected at least one token kind' })
      .refine((kinds) => new Set(kinds).size === kinds.length, { error: 'expected each kind once' })
      .default([...TOKEN_KINDS]),
    period: budgetPeriodSchema,
    timeZone: timeZoneSchema.default('UTC'),
    periodAnchor: periodAnchorInputSchema.optional(),
    warnThresholds: warnThresholdsSchema.default([...DEFAULT_WARN_THRESHOLDS]),
    rollover: rolloverSchema.default({ enabled: false }),
    enforcement: enforcementSchema.default('hard'),
  })
  .refine((request) => request.limitTokens !== undefined || request.limitUsd !== undefined, {
    error: 'expected limitTokens, limitUsd or both',
    path: ['limitTokens'],
  });

/** A budget by id or by scope: exactly one of the two. */
const budgetRefShape = {
  budgetId: z.uuid({ error: 'expected a budget id (uuid)' }).optional(),
  scope: budgetScopeSchema.optional(),
};
const exactlyOneRef = (ref: { budgetId?: string; scope?: BudgetScope }) =>
  (ref.budgetId === undefined) !== (ref.scope === undefined);
const exactlyOneRefError = { error: 'expected either budgetId or scope', path: ['budgetId'] };

/** `budgets.list`: every budget, or only those covering `projectId` (global + the project's). */
export const listBudgetsRequestSchema = z.strictObject({
  projectId: projectIdSchema.optional(),
});

export const getBudgetRequestSchema = z
  .strictObject(budgetRefShape)
  .refine(exactlyOneRef, exactlyOneRefError);
export const removeBudgetRequestSchema = z
  .strictObject(budgetRefShape)
  .refine(exactlyOneRef, exactlyOneRefError);

/** An estimate of what a launch will spend; a dimension left out reserves nothing. */
export const usageEstimateSchema = z.strictObject({
  tokens: tokensSchema('tokens').nonnegative({ error: 'expected 0 or more tokens' }).default(0),
  usd: usdSchema('usd').nonnegative({ error: 'expected 0 or more USD' }).default(0),
});
export type UsageEstimate = z.output<typeof usageEstimateSchema>;

/** A project name only improves the messages (budget-service knows projects by id). */
const projectNameSchema = z.string().min(1).max(63).optional();

/** `budgets.check`: would a launch in `projectId` with this estimate be admitted now? */
export const checkBudgetRequestSchema = z.strictObject({
  projectId: projectIdSchema,
  projectName: projectNameSchema,
  estimate: usageEstimateSchema.default({ tokens: 0, usd: 0 }),
});

/**
 * `budgets.reserve`: holds `estimate` in every budget covering the project (global and the
 * project's), or in none. `reservationId` is the idempotency key: repeating a granted
 * reservation answers the same grant without reserving twice.
 */
export const reserveBudgetRequestSchema = z.strictObject({
  reservationId: z.uuid({ error: 'expected a reservation id (uuid), the idempotency key' }),
  runnerId: z.uuid({ error: 'expected a runner id (uuid)' }),
  projectId: projectIdSchema,
  projectName: projectNameSchema,
  estimate: usageEstimateSchema.default({ tokens: 0, usd: 0 }),
  /** How long the reservation holds without usage from its runner (each usage renews it). */
  ttlMs: z
    .number({ error: 'expected a duration in milliseconds' })
    .int({ error: 'expected a duration in milliseconds' })
    .min(1000, { error: 'expected at least 1000 ms' })
    .max(MAX_RESERVATION_TTL_MS, {
      error: `expected at most ${MAX_RESERVATION_TTL_MS} ms (7 days)`,
    })
    .default(DEFAULT_RESERVATION_TTL_MS),
});

/** `budgets.release`: by reservation (a launch that did not happen) or by runner (it ended). */
export const releaseBudgetRequestSchema = z
  .strictObject({
    reservationId: z.uuid({ error: 'expected a reservation id (uuid)' }).optional(),
    runnerId: z.uuid({ error: 'expected a runner id (uuid)' }).optional(),
  })
  .refine((r) => (r.reservationId === undefined) !== (r.runnerId === undefined), {
    error: 'expected either reservationId or runnerId',
    path: ['reservationId'],
  });

/**
 * `usage.summary`: consumption per budget (current periods) and per project and local day over
 * `[from, to)`; default the last `days` days (7) up to now. Days are cut in `timeZone`.
 */
export const usageSummaryRequestSchema = z
  .strictObject({
    projectId: projectIdSchema.optional(),
    from: z.iso
      .datetime({ offset: true, error: 'expected an ISO 8601 date-time with offset' })
      .optional(),
    to: z.iso
      .datetime({ offset: true, error: 'expected an ISO 8601 date-time with offset' })
      .optional(),
    days: z
      .number({ error: 'expected a number of days from 1 to 366' })
      .int({ error: 'expected a number of days from 1 to 366' })
      .min(1, { error: 'expected a number of days from 1 to 366' })
      .max(366, { error: 'expected a number of days from 1 to 366' })
      .default(7),
    timeZone: timeZoneSchema.default('UTC'),
  })
  .refine(
    (r) => r.from === undefined || r.to === undefined || Date.parse(r.from) < Date.parse(r.to),
    {
      error: 'expected from before to',
      path: ['from'],
    },
  );

/** The payload schema of each pattern. */
export const budgetServiceRequestSchemas = {
  'budgets.set': setBudgetRequestSchema,
  'budgets.list': listBudgetsRequestSchema,
  'budgets.get': getBudgetRequestSchema,
  'budgets.remove': removeBudgetRequestSchema,
  'budgets.check': checkBudgetRequestSchema,
  'budgets.reserve': reserveBudgetRequestSchema,
  'budgets.release': releaseBudgetRequestSchema,
  'usage.summary': usageSummaryRequestSchema,
} as const satisfies Record<BudgetServicePattern, z.ZodType>;

export type SetBudgetRequest = z.output<typeof setBudgetRequestSchema>;
export type SetBudgetRequestInput = z.input<typeof setBudgetRequestSchema>;
export type ListBudgetsRequest = z.output<typeof listBudgetsRequestSchema>;
export type GetBudgetRequest = z.output<typeof getBudgetRequestSchema>;
export type RemoveBudgetRequest = z.output<typeof removeBudgetRequestSchema>;
export type CheckBudgetRequest = z.output<typeof checkBudgetRequestSchema>;
export type ReserveBudgetRequest = z.output<typeof reserveBudgetRequestSchema>;
export type ReserveBudgetRequestInput = z.input<typeof reserveBudgetRequestSchema>;
export type ReleaseBudgetRequest = z.output<typeof releaseBudgetRequestSchema>;
export type UsageSummaryRequest = z.output<typeof usageSummaryRequestSchema>;
