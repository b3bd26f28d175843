import { z } from 'zod';

import { defineEvent } from '../event-contract';
import { runnerFailureReasonSchema } from '../runner-events';

/** The `source` of every event heartbeat-ingest emits. */
export const HEARTBEAT_INGEST_SOURCE = 'heartbeat-ingest';

const runnerRef = {
  runnerId: z.uuid(),
  projectId: z.uuid(),
};

/**
 * The first heartbeat of a runner reached heartbeat-ingest: the agent's child is up.
 * runner-manager moves a `starting` runner to `running`.
 */
export const heartbeatFirstReceivedV1 = defineEvent({
  type: 'heartbeat.first-received',
  version: 1,
  data: z.object({
    ...runnerRef,
    seq: z.number().int().nonnegative(),
    pid: z.number().int().positive().nullable(),
    sessionId: z.string().min(1).nullable(),
    receivedAt: z.iso.datetime({ offset: true }),
  }),
});

/** How an exited runner ended, as heartbeat-ingest reads the agent's final report. */
export const heartbeatExitOutcomeSchema = z.enum(['completed', 'failed', 'stopped']);

/**
 * The agent reported that its child exited. `outcome`: `stopped` when a stop was asked for,
 * else `completed` for exit code 0, else `failed` (`failureReason` `nonzero_exit` or `killed`).
 * runner-manager moves the runner to that terminal state.
 */
export const heartbeatExitedV1 = defineEvent({
  type: 'heartbeat.exited',
  version: 1,
  data: z.object({
    ...runnerRef,
    outcome: heartbeatExitOutcomeSchema,
    failureReason: runnerFailureReasonSchema.optional(),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    sessionId: z.string().min(1).nullable(),
    receivedAt: z.iso.datetime({ offset: true }),
  }),
});

/**
 * No heartbeat for `staleAfterIntervals` x `intervalMs`: runner-manager marks the runner
 * `failed` with `reason`.
 */
export const heartbeatRunnerStaleV1 = defineEvent({
  type: 'heartbeat.runner-stale',
  version: 1,
  data: z.object({
    ...runnerRef,
    reason: z.literal('heartbeat_timeout'),
    /** `null` when the runner never sent a heartbeat (silence counted from its launch). */
    lastHeartbeatAt: z.iso.datetime({ offset: true }).nullable(),
    silentForMs: z.number().int().nonnegative(),
    intervalMs: z.number().int().positive(),
    staleAfterIntervals: z.number().int().positive(),
    detectedAt: z.iso.datetime({ offset: true }),
  }),
});

/**
 * More than half of the active runners went silent at once: more likely a control-plane or
 * network fault than dying agents, so the detector fails none of them and raises this alert.
 */
export const heartbeatMassStaleV1 = defineEvent({
  type: 'heartbeat.mass-stale',
  version: 1,
  data: z.object({
    activeRunners: z.number().int().positive(),
    staleRunners: z.number().int().positive(),
    /** Up to 20 of the silent runners, for the operator. */
    sampleRunnerIds: z.array(z.uuid()).max(20),
    detectedAt: z.iso.datetime({ offset: true }),
  }),
});

export const heartbeatIngestEvents = [
  heartbeatFirstReceivedV1,
  heartbeatExitedV1,
  heartbeatRunnerStaleV1,
  heartbeatMassStaleV1,
] as const;

export type HeartbeatIngestEvent = (typeof heartbeatIngestEvents)[number];
