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
