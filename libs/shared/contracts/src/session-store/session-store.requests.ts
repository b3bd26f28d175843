import { z } from 'zod';

import { sessionIdSchema } from './session-events';

/** The bus service name of session-store (request/reply). */
export const SESSION_STORE_SERVICE = 'session-store';

/** Request patterns served by session-store (docs/sessions.md). */
export const sessionStorePatterns = [
  'sessions.list',
  'sessions.get',
  'sessions.transcript',
  'usage.by',
  'runners.stats',
] as const;

export const sessionStorePatternSchema = z.enum(sessionStorePatterns);
export type SessionStorePattern = z.infer<typeof sessionStorePatternSchema>;

/** A subagent's id as Claude Code names it (`agent-a2898e3.jsonl` has agent id `a2898e3`). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Transcript kinds: the session's own, or one of its subagents' (sidechains). */
export const transcriptKindSchema = z.enum(['main', 'subagent']);
export type TranscriptKind = z.infer<typeof transcriptKindSchema>;

export const agentIdSchema = z.string().regex(AGENT_ID_PATTERN, {
  error: `expected an agent id matching ${AGENT_ID_PATTERN.source}`,
});

/**
 * A transcript as the HTTP API names it in one word: `main` or `subagent-<agentId>`. Parsed to
 * `{ kind, agentId }` (agentId `null` for `main`).
 */
export const transcriptKindRefSchema = z
  .string({ error: 'expected main or subagent-<agentId>' })
  .transform((value, ctx) => {
    if (value === 'main') return { kind: 'main' as const, agentId: null };
    const agentId = value.startsWith('subagent-') ? value.slice('subagent-'.length) : '';
    if (AGENT_ID_PATTERN.test(agentId)) return { kind: 'subagent' as const, agentId };
    ctx.addIssue({
      code: 'custom',
      message: `expected main or subagent-<agentId> (agent id matching ${AGENT_ID_PATTERN.source})`,
    });
    return z.NEVER;
  });
export type TranscriptKindRef = z.output<typeof transcriptKindRefSchema>;

/** The one-word name of a transcript: `main` or `subagent-<agentId>`. */
export function transcriptKindName(kind: TranscriptKind, agentId: string | null): string {
  return kind === 'main' ? 'main' : `subagent-${agentId ?? ''}`;
}

const uuidOf = (what: string) => z.uuid({ error: `expected a ${what} id (uuid)` });

/** A calendar day in UTC, `YYYY-MM-DD`. */
export const daySchema = z.iso.date({ error: 'expected a day as YYYY-MM-DD' });

export const SESSIONS_DEFAULT_LIMIT = 50;
export const SESSIONS_MAX_LIMIT = 500;

/** `sessions.list`: newest activity first. */
export const listSessionsRequestSchema = z.strictObject({
  /** Only this project's sessions (the gateway resolves names to ids). */
  project: uuidOf('project').optional(),
  /** Only sessions this runner took part in. */
  runner: uuidOf('runner').optional(),
  /** Only sessions active at or after this instant (last snapshot). */
  since: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 timestamp' }).optional(),
  limit: z
    .number({ error: `expected an integer from 1 to ${SESSIONS_MAX_LIMIT}` })
    .int({ error: `expected an integer from 1 to ${SESSIONS_MAX_LIMIT}` })
    .min(1, { error: `expected an integer from 1 to ${SESSIONS_MAX_LIMIT}` })
    .max(SESSIONS_MAX_LIMIT, { error: `expected an integer from 1 to ${SESSIONS_MAX_LIMIT}` })
    .default(SESSIONS_DEFAULT_LIMIT),
});

export const getSessionRequestSchema = z.strictObject({ session: sessionIdSchema });

/** Default and largest `limitBytes` of one `sessions.transcript` read. */
export const TRANSCRIPT_DEFAULT_LIMIT_BYTES = 256 * 1024;
export const TRANSCRIPT_MAX_LIMIT_BYTES = 1024 * 1024;

const limitBytesError = `expected an integer from 1 to ${TRANSCRIPT_MAX_LIMIT_BYTES}`;

/**
 * One window of a stored transcript: at most `limitBytes` bytes from byte `offset`, whole UTF-8
 * characters only (like a runner's log window). Read on from `nextOffset` until `eof`.
 */
export const transcriptWindowRequestSchema = z
  .strictObject({
    session: sessionIdSchema,
    kind: transcriptKindSchema.default('main'),
    /** Required for `subagent`, refused for `main`. */
    agentId: agentIdSchema.nullable().default(null),
    offset: z
      .number({ error: 'expected a byte offset (an integer >= 0)' })
      .int({ error: 'expected a byte offset (an integer >= 0)' })
      .min(0, { error: 'expected a byte offset (an integer >= 0)' })
      .default(0),
    limitBytes: z
      .number({ error: limitBytesError })
      .int({ error: limitBytesError })
      .min(1, { error: limitBytesError })
      .max(TRANSCRIPT_MAX_LIMIT_BYTES, { error: limitBytesError })
      .default(TRANSCRIPT_DEFAULT_LIMIT_BYTES),
  })
  .superRefine((request, ctx) => {
    if (request.kind === 'subagent' && request.agentId === null) {
      ctx.addIssue({ code: 'custom', path: ['agentId'], message: 'required for kind subagent' });
    }
    if (request.kind === 'main' && request.agentId !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['agentId'],
        message: 'allowed only for kind subagent',
      });
    }
  });

export const usageGroupings = ['project', 'model', 'day'] as const;
export const usageGroupingSchema = z.enum(usageGroupings, {
  error: `expected one of ${usageGroupings.join(', ')}`,
});
export type UsageGrouping = z.infer<typeof usageGroupingSchema>;

/** Longest range of a `usage.by` or `runners.stats` request, in days. */
export const STATS_MAX_RANGE_DAYS = 3660;
/** Days covered when `from` is omitted (`to` included). */
export const STATS_DEFAULT_RANGE_DAYS = 30;

function refineRange(request: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (request.from === undefined || request.to === undefined) return;
  const days = (Date.parse(request.to) - Date.parse(request.from)) / 86_400_000;
  if (days < 0) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'expected a day on or before to' });
  } else if (days >= STATS_MAX_RANGE_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: `expected a range of at most ${STATS_MAX_RANGE_DAYS} days`,
    });
  }
}

/**
 * `usage.by`: tokens by kind and cost over the days `from`..`to` (UTC, both included), grouped
 * by project, model or day. `to` defaults to today, `from` to 30 days ending with `to`.
 */
export const usageByRequestSchema = z
  .strictObject({
    by: usageGroupingSchema,
    from: daySchema.optional(),
    to: daySchema.optional(),
    /** Only this project's usage. */
    project: uuidOf('project').optional(),
  })
  .superRefine(refineRange);

/** `runners.stats`: outcomes and durations per project of the runners launched in the range. */
export const runnersStatsRequestSchema = z
  .strictObject({
    from: daySchema.optional(),
    to: daySchema.optional(),
    project: uuidOf('project').optional(),
  })
  .superRefine(refineRange);

/** The payload schema of each pattern. */
export const sessionStoreRequestSchemas = {
  'sessions.list': listSessionsRequestSchema,
  'sessions.get': getSessionRequestSchema,
  'sessions.transcript': transcriptWindowRequestSchema,
  'usage.by': usageByRequestSchema,
  'runners.stats': runnersStatsRequestSchema,
} as const satisfies Record<SessionStorePattern, z.ZodType>;

export type ListSessionsRequest = z.output<typeof listSessionsRequestSchema>;
export type GetSessionRequest = z.output<typeof getSessionRequestSchema>;
export type TranscriptWindowRequest = z.output<typeof transcriptWindowRequestSchema>;
export type UsageByRequest = z.output<typeof usageByRequestSchema>;
export type RunnersStatsRequest = z.output<typeof runnersStatsRequestSchema>;
