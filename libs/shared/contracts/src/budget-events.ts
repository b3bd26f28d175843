import { z } from 'zod';

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

export const budgetEvents = [usageReportedV1, budgetWarningV1, budgetExceededV1] as const;
