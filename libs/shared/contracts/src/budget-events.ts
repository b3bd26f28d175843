import { z } from 'zod';

import { budgetShortfallSchema } from './budget-service/budget-service.replies';
import { defineEvent } from './event-contract';

const tokenCount = z.number().int().nonnegative();

/** Token usage since the previous report (deltas, never cumulative counters). */
export const usageReportedV1 = defineEvent({
  type: 'usage.reported',
  version: 1,
  data: z.object({
    runnerId: z.uuid(),
    projectId: z.uuid(),
    sessionId: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    inputTokens: tokenCount,
    outputTokens: tokenCount,
    cacheCreationTokens: tokenCount.default(0),
    cacheReadTokens: tokenCount.default(0),
    costUsd: z.number().nonnegative().optional(),
    observedAt: z.iso.datetime({ offset: true }),
  }),
});

const budgetRef = {
  budgetId: z.uuid(),
  scope: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('global') }),
    z.object({ kind: z.literal('project'), projectId: z.uuid() }),
  ]),
  period: z.enum(['daily', 'weekly', 'monthly', 'none']),
  periodStart: z.iso.datetime({ offset: true }).optional(),
  periodEnd: z.iso.datetime({ offset: true }).optional(),
  limitTokens: tokenCount,
  usedTokens: tokenCount,
};

export const budgetWarningV1 = defineEvent({
  type: 'budget.warning',
  version: 1,
  data: z.object({
    ...budgetRef,
    /** The threshold crossed, as a fraction of the limit (0.8 = 80 %). */
    threshold: z.number().gt(0).lte(1),
  }),
});

export const budgetExceededV1 = defineEvent({
  type: 'budget.exceeded',
  version: 1,
  data: z.object({
    ...budgetRef,
    enforcement: z.enum(['soft', 'hard']),
  }),
});

const usdAmount = z.number().nonnegative();

/**
 * Version 2 of the budget events (what budget-service emits): limits in tokens, USD or both
 * (`null` where a dimension is not limited, so USD-only budgets fit), what is used and reserved,
 * the period, and the scope's `projectId` at the top level so that consumers (runner-manager
 * stopping the scope's runners, the notifier) need not unpack the scope. Limits here are the
 * effective limits of the period: configured limit plus what rolled over into it.
 */
const budgetStateV2 = {
  budgetId: z.uuid(),
  scope: budgetRef.scope,
  /** The project of a `project` scope; absent for `global`. */
  projectId: z.uuid().optional(),
  period: budgetRef.period,
  periodStart: z.iso.datetime({ offset: true }),
  /** `null` for `period: none`. */
  periodEnd: z.iso.datetime({ offset: true }).nullable(),
  enforcement: z.enum(['soft', 'hard']),
  limitTokens: tokenCount.nullable(),
  limitUsd: usdAmount.nullable(),
  usedTokens: tokenCount,
  usedUsd: usdAmount,
  reservedTokens: tokenCount,
  reservedUsd: usdAmount,
  /** used / limit, the larger of the two dimensions (1 or more when exceeded). */
  ratio: z.number().nonnegative(),
  /** A ready-made sentence for people. */
  message: z.string(),
};

/** A warning threshold was crossed; once per threshold per period per budget. */
export const budgetWarningV2 = defineEvent({
  type: 'budget.warning',
  version: 2,
  data: z.object({
    ...budgetStateV2,
    /** The threshold crossed, as a fraction of the limit (0.8 = 80 %). */
    threshold: z.number().gt(0).lt(1),
  }),
});

/**
 * The limit was reached; once per period per budget (again after a limit change re-armed it).
 * With `enforcement: hard`, runner-manager stops the scope's running runners (every runner for
 * `global`, the project's for `project`) and budget-service refuses reservations.
 */
export const budgetExceededV2 = defineEvent({
  type: 'budget.exceeded',
  version: 2,
  data: z.object({
    ...budgetStateV2,
    /** The dimensions at or past their limit. */
    exceededOn: z.array(z.enum(['tokens', 'usd'])).min(1),
  }),
});

/**
 * A runner spent into a hard budget that is at or past its limit in its open period: emitted
 * when budget-service books usage of the runner there, at most once per runner per budget and
 * period (again after a raised limit was reached again). runner-manager stops that runner
 * gracefully. It closes the gap `budget.exceeded` leaves: a launch granted just before the
 * limit was reached whose runner started after runner-manager stopped the scope's runners.
 * Subject: the runner id. `projectId` stays the scope's (absent for `global`);
 * `runnerProjectId` is the runner's own project.
 */
export const budgetOverrunV1 = defineEvent({
  type: 'budget.overrun',
  version: 1,
  data: z.object({
    ...budgetStateV2,
    enforcement: z.literal('hard'),
    runnerId: z.uuid(),
    runnerProjectId: z.uuid(),
    /** The dimensions at or past their limit. */
    exceededOn: z.array(z.enum(['tokens', 'usd'])).min(1),
  }),
});

/**
 * A launch's reservation was refused: a hard budget covering it cannot take its estimate. One
 * per refused decision, written in the decision's transaction (a refused reservation id holds
 * nothing, so a retry of it is decided afresh and, refused again, announced again). Subject:
 * the project. What the notifier tells people about a refused launch; `message` is the
 * sentence the CLI prints.
 */
export const budgetRefusedV1 = defineEvent({
  type: 'budget.refused',
  version: 1,
  data: z.object({
    reservationId: z.uuid(),
    runnerId: z.uuid(),
    projectId: z.uuid(),
    projectName: z.string().optional(),
    estimateTokens: tokenCount,
    estimateUsd: z.number().nonnegative(),
    refusals: z.array(budgetShortfallSchema).min(1),
    message: z.string(),
  }),
});

export const budgetEvents = [
  usageReportedV1,
  budgetWarningV1,
  budgetExceededV1,
  budgetWarningV2,
  budgetExceededV2,
  budgetOverrunV1,
  budgetRefusedV1,
] as const;
