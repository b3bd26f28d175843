import { z } from 'zod';

import { HEARTBEAT_STATUSES, heartbeatCountersSchema } from '../heartbeat';

/** The bus service name of heartbeat-ingest (request/reply). */
export const HEARTBEAT_INGEST_SERVICE = 'heartbeat-ingest';

/** Request patterns served by heartbeat-ingest. */
export const heartbeatIngestPatterns = ['liveness.get'] as const;
export type HeartbeatIngestPattern = (typeof heartbeatIngestPatterns)[number];

/** Most runners one `liveness.get` may ask about (a page of `GET /runners`). */
export const LIVENESS_MAX_RUNNERS = 500;

/** `liveness.get`: the latest report of each runner named. */
export const livenessRequestSchema = z.strictObject({
  runnerIds: z
    .array(z.uuid())
    .max(LIVENESS_MAX_RUNNERS, { error: `at most ${LIVENESS_MAX_RUNNERS} runner ids` }),
});

/** What heartbeat-ingest knows of one runner's process, from its latest heartbeat. */
export const runnerLivenessSchema = z.object({
  runnerId: z.uuid(),
  /** When heartbeat-ingest received the latest report. */
  lastHeartbeatAt: z.iso.datetime({ offset: true }),
  /** The agent's child (the real agent command); `null` before it started. */
  pid: z.number().int().positive().nullable(),
  cpuPercent: z.number().nonnegative(),
  memoryBytes: z.number().int().nonnegative(),
  status: z.enum(HEARTBEAT_STATUSES),
  seq: z.number().int().nonnegative(),
  /** Cumulative token counters as of the latest report. */
  counters: heartbeatCountersSchema,
});

/**
 * The reply to `liveness.get`: one entry per runner that has reported at least once; runners
 * never heard of (or silent so far) are absent.
 */
export const livenessReplySchema = z.object({ runners: z.array(runnerLivenessSchema) });

export type LivenessRequest = z.output<typeof livenessRequestSchema>;
export type RunnerLiveness = z.output<typeof runnerLivenessSchema>;
export type LivenessReply = z.output<typeof livenessReplySchema>;
