import { z } from 'zod';

import { sessionResultSchema } from '../heartbeat';
import { runnerFailureReasonSchema } from '../runner-events';
import { sessionModelUsageSchema, sessionTokensSchema } from './session-events';
import { transcriptKindSchema, usageGroupingSchema } from './session-store.requests';

const timestamp = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const usd = z.number().nonnegative();

/**
 * A session as session-store knows it: the sum of its runs (one run per runner that took part,
 * e.g. the first runner and the one that resumed it).
 */
export const sessionSummarySchema = z.object({
  /** Claude Code's session id. */
  id: z.string(),
  projectId: z.uuid(),
  /** The runner the session was first seen in. */
  runnerId: z.uuid(),
  /** Every runner that took part, first seen first. */
  runnerIds: z.array(z.uuid()),
  cwd: z.string().nullable(),
  /** Tokens by model, summed over the runs. */
  models: z.record(z.string(), sessionModelUsageSchema),
  tokens: sessionTokensSchema,
  turns: count,
  /** Stratavore's pricing; `null` when a run used a model without a price. */
  costUsd: usd.nullable(),
  /** Claude Code's own `total_cost_usd`, summed over the runs that reported one. */
  reportedCostUsd: usd.nullable(),
  /** The result of the latest run; `null` while it runs. */
  result: sessionResultSchema.nullable(),
  resumedFrom: z.string().nullable(),
  waitingForInput: z.boolean(),
  startedAt: timestamp,
  lastSeenAt: timestamp,
  endedAt: timestamp.nullable(),
});

/** One runner's part of a session: its latest cumulative snapshot. */
export const sessionRunSchema = z.object({
  runnerId: z.uuid(),
  /** The heartbeat seq of the snapshot. */
  seq: count,
  firstSeenAt: timestamp,
  observedAt: timestamp,
  models: z.record(z.string(), sessionModelUsageSchema),
  tokens: sessionTokensSchema,
  turns: count,
  costUsd: usd.nullable(),
  reportedCostUsd: usd.nullable(),
  cwd: z.string().nullable(),
  transcriptPath: z.string().nullable(),
  resumedFrom: z.string().nullable(),
  waitingForInput: z.boolean(),
  result: sessionResultSchema.nullable(),
});

/** What is stored of one uploaded transcript (the content is read with `sessions.transcript`). */
export const transcriptMetadataSchema = z.object({
  kind: transcriptKindSchema,
  /** The subagent's id; `null` for `main`. */
  agentId: z.string().nullable(),
  size: count,
  lineCount: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  uploadedAt: timestamp,
  /** The runner whose agent uploaded this version. */
  uploadedBy: z.uuid(),
});

export const sessionDetailSchema = sessionSummarySchema.extend({
  runs: z.array(sessionRunSchema),
  transcripts: z.array(transcriptMetadataSchema),
});

export const sessionListReplySchema = z.object({ sessions: z.array(sessionSummarySchema) });

/**
 * A window of a transcript. `content` is whole UTF-8 characters only, so `nextOffset - offset`
 * is its exact length in bytes; `eof` says everything up to `size` was read.
 */
export const transcriptWindowReplySchema = z.object({
  content: z.string(),
  offset: count,
  nextOffset: count,
  size: count,
  eof: z.boolean(),
  transcript: transcriptMetadataSchema,
});

/** Tokens and cost of one group of `usage.by`. */
export const usageRowSchema = z.object({
  /** The project id, the model id, or the day (`YYYY-MM-DD`). */
  key: z.string(),
  tokens: sessionTokensSchema,
  costUsd: usd,
});

export const usageByReplySchema = z.object({
  by: usageGroupingSchema,
  from: z.iso.date(),
  to: z.iso.date(),
  rows: z.array(usageRowSchema),
  total: z.object({ tokens: sessionTokensSchema, costUsd: usd }),
});

/** Durations of ended runners (launch or first heartbeat to end), in milliseconds. */
export const runnerDurationsSchema = z.object({
  avg: count,
  p50: count,
  p95: count,
  max: count,
});

export const runnerOutcomesSchema = z.object({
  launched: count,
  /** Not ended yet. */
  active: count,
  completed: count,
  failed: count,
  stopped: count,
  /** completed / (completed + failed); stopped runners are left out. `null` with neither. */
  successRate: z.number().min(0).max(1).nullable(),
  failureReasons: z.partialRecord(runnerFailureReasonSchema, count),
  /** `null` when no runner ended. */
  durationMs: runnerDurationsSchema.nullable(),
});

export const runnersStatsReplySchema = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  projects: z.array(runnerOutcomesSchema.extend({ projectId: z.uuid() })),
  total: runnerOutcomesSchema,
});

/** The reply schema of each pattern. */
export const sessionStoreReplySchemas = {
  'sessions.list': sessionListReplySchema,
  'sessions.get': sessionDetailSchema,
  'sessions.transcript': transcriptWindowReplySchema,
  'usage.by': usageByReplySchema,
  'runners.stats': runnersStatsReplySchema,
} as const;

export type SessionSummary = z.output<typeof sessionSummarySchema>;
export type SessionRun = z.output<typeof sessionRunSchema>;
export type TranscriptMetadata = z.output<typeof transcriptMetadataSchema>;
export type SessionDetail = z.output<typeof sessionDetailSchema>;
export type SessionListReply = z.output<typeof sessionListReplySchema>;
export type TranscriptWindowReply = z.output<typeof transcriptWindowReplySchema>;
export type UsageRow = z.output<typeof usageRowSchema>;
export type UsageByReply = z.output<typeof usageByReplySchema>;
export type RunnerOutcomes = z.output<typeof runnerOutcomesSchema>;
export type RunnersStatsReply = z.output<typeof runnersStatsReplySchema>;
