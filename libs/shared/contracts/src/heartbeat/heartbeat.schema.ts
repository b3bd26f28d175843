import { z } from 'zod';

/** Where the runner's process stands, as the agent reports it. */
export const HEARTBEAT_STATUSES = ['starting', 'running', 'exited'] as const;
export type HeartbeatStatus = (typeof HEARTBEAT_STATUSES)[number];

/** What heartbeat-ingest asks of the agent in its answer. */
export const HEARTBEAT_DESIRED_STATES = ['continue', 'stop'] as const;
export type HeartbeatDesiredState = (typeof HEARTBEAT_DESIRED_STATES)[number];

const counter = () => z.number().int().nonnegative();

/**
 * Token usage since the runner started. Cumulative, never deltas: ingest computes the usage
 * against the last recorded counters, so a repeated or lost heartbeat never double-counts.
 */
export const heartbeatCountersSchema = z.strictObject({
  inputTokens: counter(),
  outputTokens: counter(),
  cacheCreationTokens: counter(),
  cacheReadTokens: counter(),
});
export type HeartbeatCounters = z.infer<typeof heartbeatCountersSchema>;

/** Counters of a runner that has used nothing yet. */
export const ZERO_HEARTBEAT_COUNTERS: HeartbeatCounters = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
});

/**
 * Tokens of one model by kind, cumulative, de-duplicated per API response (docs/claude-code.md):
 * cache creation split by lifetime (5 minutes, 1 hour), web search requests counted apart.
 */
export const modelUsageSchema = z.strictObject({
  input: counter(),
  output: counter(),
  cacheCreation5m: counter(),
  cacheCreation1h: counter(),
  cacheRead: counter(),
  webSearchRequests: counter(),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;

/** How a Claude Code session ended, once its `result` is known. */
export const sessionResultSchema = z.strictObject({
  /** `success`, `error_max_turns`, `error_max_budget_usd`, `error_during_execution`, ... */
  subtype: z.string().min(1).max(64),
  isError: z.boolean(),
  /** Terminal but resumable (max turns, max budget, usage limit). */
  resumable: z.boolean(),
  /** A usage-limit stop: when the limit resets, as the CLI reported it. */
  resumeAt: z.iso.datetime({ offset: true }).nullable(),
});
export type SessionResult = z.infer<typeof sessionResultSchema>;

/** What Claude Code is doing, as its hooks told the agent (docs/claude-code.md, "Hooks"). */
export const SESSION_ACTIVITY_STATES = ['working', 'waiting', 'idle'] as const;
export type SessionActivityState = (typeof SESSION_ACTIVITY_STATES)[number];

/**
 * The session's activity: `working` (a turn is under way), `waiting` (Claude Code needs a person:
 * a permission prompt, a question, the idle reminder) or `idle` (an interactive turn finished;
 * the next prompt is the user's). Changes only on a hook, so equal snapshots stay equal.
 */
export const sessionActivitySchema = z.strictObject({
  state: z.enum(SESSION_ACTIVITY_STATES),
  /**
   * What moved it: the Notification's `notification_type` (`permission_prompt`, `idle_prompt`,
   * `elicitation_dialog`, ...) or the hook's name (`Stop`, `UserPromptSubmit`, `PostToolUse`).
   */
  reason: z.string().min(1).max(64),
  /** The Notification's message ("Claude needs your permission to use Bash"), if any. */
  message: z.string().max(1000).nullable(),
  /** When the agent heard of the change. */
  since: z.iso.datetime({ offset: true }),
});
export type SessionActivity = z.infer<typeof sessionActivitySchema>;

/**
 * What the agent knows of the agent CLI's session (Claude Code): present once a session id is
 * known. Everything is cumulative for this runner's part of the session, so a repeated or lost
 * heartbeat never changes a total.
 */
export const heartbeatSessionSchema = z.strictObject({
  sessionId: z.string().min(1).max(256),
  /** Usage per model id (`claude-sonnet-4-5-20250929`). */
  models: z.record(z.string().min(1).max(128), modelUsageSchema),
  turns: counter(),
  /** From Stratavore's pricing table; null when a model used has no price. */
  costUsd: z.number().nonnegative().nullable(),
  /** Claude Code's own `total_cost_usd`, when it reported one. */
  reportedCostUsd: z.number().nonnegative().nullable(),
  cwd: z.string().min(1).max(4096).nullable(),
  /** The session's transcript file on the agent's machine. */
  transcriptPath: z.string().min(1).max(4096).nullable(),
  /** The session this one resumed (`claude --resume <id>` keeps the id; a fork gets a new one). */
  resumedFrom: z.string().min(1).max(256).nullable(),
  /**
   * Claude Code is waiting for a person: a Notification hook fired, or an interactive turn
   * finished (Stop), and no turn started since (`activity.state` is not `working`).
   */
  waitingForInput: z.boolean(),
  /** From the agent's Claude Code hooks; absent when it has none (older agents, no hooks). */
  activity: sessionActivitySchema.optional(),
  result: sessionResultSchema.nullable(),
});
export type HeartbeatSession = z.infer<typeof heartbeatSessionSchema>;

/** How the agent's child ended: an exit code, or the signal that killed it. */
export const heartbeatExitSchema = z.strictObject({
  code: z.number().int().nullable(),
  signal: z
    .string()
    .regex(/^SIG[A-Z0-9]+$/, { error: 'expected a signal name such as SIGTERM' })
    .nullable(),
});
export type HeartbeatExit = z.infer<typeof heartbeatExitSchema>;

/**
 * Body of `POST /api/v1/heartbeat` (docs/runners.md, "Heartbeat protocol"). Strict: an unknown
 * field is refused so that a typo surfaces as a 400 instead of a silently missing value.
 * `exit` is present exactly when `status` is `exited`.
 */
export const heartbeatRequestSchema = z
  .strictObject({
    runnerId: z.uuid(),
    seq: z.number().int().nonnegative(),
    sentAt: z.iso.datetime({ offset: true }),
    status: z.enum(HEARTBEAT_STATUSES),
    pid: z.number().int().positive().nullable(),
    cpuPercent: z.number().nonnegative(),
    memoryBytes: z.number().int().nonnegative(),
    agentVersion: z.string().min(1).max(64),
    sessionId: z.string().min(1).max(256).nullable(),
    counters: heartbeatCountersSchema,
    /** Claude Code runners only; older agents omit it. */
    session: heartbeatSessionSchema.optional(),
    exit: heartbeatExitSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.status === 'exited' && body.exit === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['exit'],
        message: 'required when status is exited',
      });
    }
    if (body.status !== 'exited' && body.exit !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['exit'],
        message: 'allowed only when status is exited',
      });
    }
  });
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

/**
 * The `200` answer to a heartbeat. Not strict on purpose: the agent is deployed separately from
 * heartbeat-ingest, so a field added to the answer must not break agents already running.
 */
export const heartbeatAnswerSchema = z.object({
  desiredState: z.enum(HEARTBEAT_DESIRED_STATES),
  intervalMs: z.number().int().positive(),
});
export type HeartbeatAnswer = z.infer<typeof heartbeatAnswerSchema>;
