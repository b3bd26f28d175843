import { z } from 'zod';

import { defineEvent } from '../event-contract';
import { heartbeatSessionSchema, modelUsageSchema, sessionResultSchema } from '../heartbeat';

/** The `source` of the events session-store emits (`session.started|updated|ended`). */
export const SESSION_STORE_SOURCE = 'session-store';

const timestamp = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const usd = z.number().nonnegative();

/** A Claude Code session id as heartbeats carry it. */
export const sessionIdSchema = heartbeatSessionSchema.shape.sessionId;

/**
 * Tokens of a session (or a run, a day, a project) by kind. `cacheCreation` is the sum of the
 * 5-minute and 1-hour cache writes, kept for readers that do not care about the lifetime.
 */
export const sessionTokensSchema = z.object({
  input: count,
  output: count,
  cacheCreation: count,
  cacheCreation5m: count,
  cacheCreation1h: count,
  cacheRead: count,
  webSearchRequests: count,
});
export type SessionTokens = z.output<typeof sessionTokensSchema>;

/**
 * One model's tokens with the part of the cost session-store attributes to it. The agent reports
 * one cost per run; a run with several models has it split by the models' list prices
 * (docs/sessions.md, "Cost by model"). `null` when the run's cost is unknown.
 */
export const sessionModelUsageSchema = modelUsageSchema.extend({ costUsd: usd.nullable() });
export type SessionModelUsage = z.output<typeof sessionModelUsageSchema>;

/**
 * heartbeat-ingest saw a session snapshot that differs from the last one it recorded for the
 * runner (docs/sessions.md). `session` is cumulative for this runner's part of the session, so
 * session-store keeps the snapshot with the highest `seq` per (session, runner) and sums runners.
 */
export const sessionReportedV1 = defineEvent({
  type: 'session.reported',
  version: 1,
  data: z.object({
    runnerId: z.uuid(),
    projectId: z.uuid(),
    /** The heartbeat's seq: an older snapshot never overwrites a newer one. */
    seq: count,
    /** When heartbeat-ingest received the heartbeat. */
    observedAt: timestamp,
    session: heartbeatSessionSchema,
  }),
});

/** session-store saw a session for the first time. */
export const sessionStartedV1 = defineEvent({
  type: 'session.started',
  version: 1,
  data: z.object({
    sessionId: sessionIdSchema,
    projectId: z.uuid(),
    runnerId: z.uuid(),
    startedAt: timestamp,
    cwd: z.string().nullable(),
    resumedFrom: z.string().nullable(),
    models: z.array(z.string()),
  }),
});

/** The session's totals or state changed (a newer snapshot of one of its runs). */
export const sessionUpdatedV1 = defineEvent({
  type: 'session.updated',
  version: 1,
  data: z.object({
    sessionId: sessionIdSchema,
    projectId: z.uuid(),
    /** The runner whose snapshot changed the session. */
    runnerId: z.uuid(),
    runnerIds: z.array(z.uuid()).min(1),
    turns: count,
    tokens: sessionTokensSchema,
    costUsd: usd.nullable(),
    reportedCostUsd: usd.nullable(),
    waitingForInput: z.boolean(),
    result: sessionResultSchema.nullable(),
    lastSeenAt: timestamp,
    /** `null` while it runs, also after a resume reopened an ended session. */
    endedAt: timestamp.nullable(),
  }),
});

/**
 * The session ended: its `result` is known, or the runner it ran in ended without one (killed,
 * crashed). Emitted again if a resume (`claude --resume`) reopened it and it ends once more.
 */
export const sessionEndedV1 = defineEvent({
  type: 'session.ended',
  version: 1,
  data: z.object({
    sessionId: sessionIdSchema,
    projectId: z.uuid(),
    runnerId: z.uuid(),
    reason: z.enum(['result', 'runner_ended']),
    result: sessionResultSchema.nullable(),
    /** A usage-limit, max-turns or max-budget stop that `claude --resume` can continue. */
    resumable: z.boolean(),
    endedAt: timestamp,
    turns: count,
    tokens: sessionTokensSchema,
    costUsd: usd.nullable(),
    reportedCostUsd: usd.nullable(),
  }),
});

export const sessionStoreEvents = [
  sessionReportedV1,
  sessionStartedV1,
  sessionUpdatedV1,
  sessionEndedV1,
] as const;

export type SessionStoreEvent = (typeof sessionStoreEvents)[number];
