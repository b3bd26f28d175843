import { z } from 'zod';

import { defineEvent } from './event-contract';

const runnerRef = {
  runnerId: z.uuid(),
  projectId: z.uuid(),
};

export const runnerLaunchedV1 = defineEvent({
  type: 'runner.launched',
  version: 1,
  data: z.object({
    ...runnerRef,
    agentCommand: z.string().min(1),
    prompt: z.string().optional(),
    mode: z.enum(['headless', 'interactive']),
    launcher: z.enum(['local', 'kubernetes']),
    reservedTokens: z.number().int().nonnegative().optional(),
    /** sha256 (hex) of the runner's secret token: heartbeat-ingest authenticates with it. */
    tokenHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest'),
    /** The heartbeat interval the agent was started with. */
    heartbeatIntervalMs: z.number().int().positive().optional(),
    /** Where the agent command runs. */
    cwd: z.string().min(1).optional(),
    /** The Claude session this runner resumes (`claude --resume <id>`). */
    resumedFrom: z.string().min(1).optional(),
    restartPolicy: z.enum(['no', 'on-failure']).optional(),
    /** The ended runner this one replaces (restart policy `on-failure`). */
    restartOf: z.uuid().optional(),
    /** How many restarts led to this runner. */
    restarts: z.number().int().nonnegative().optional(),
  }),
});

export const runnerStartingV1 = defineEvent({
  type: 'runner.starting',
  version: 1,
  data: z.object({ ...runnerRef, pid: z.number().int().positive().optional() }),
});

export const runnerRunningV1 = defineEvent({
  type: 'runner.running',
  version: 1,
  data: z.object({
    ...runnerRef,
    pid: z.number().int().positive().optional(),
    sessionId: z.string().min(1).optional(),
  }),
});

export const runnerStoppingV1 = defineEvent({
  type: 'runner.stopping',
  version: 1,
  data: z.object({
    ...runnerRef,
    requestedBy: z.enum(['user', 'budget', 'system']),
    reason: z.string().optional(),
  }),
});

export const runnerStoppedV1 = defineEvent({
  type: 'runner.stopped',
  version: 1,
  data: z.object({ ...runnerRef, exitCode: z.number().int().nullable().optional() }),
});

export const runnerCompletedV1 = defineEvent({
  type: 'runner.completed',
  version: 1,
  data: z.object({
    ...runnerRef,
    exitCode: z.number().int(),
    sessionId: z.string().min(1).optional(),
  }),
});

/** Why a runner failed; `heartbeat_timeout` comes from the stale-runner detector. */
export const runnerFailureReasonSchema = z.enum([
  'heartbeat_timeout',
  'launch_failed',
  'agent_crashed',
  'nonzero_exit',
  'killed',
  'budget_exceeded',
]);

export const runnerFailedV1 = defineEvent({
  type: 'runner.failed',
  version: 1,
  data: z.object({
    ...runnerRef,
    reason: runnerFailureReasonSchema,
    detail: z.string().optional(),
    exitCode: z.number().int().nullable().optional(),
  }),
});

/**
 * A runner with restart policy `on-failure` ended in a way that earns a replacement: it is
 * launched at `restartAt` (after a backoff, or when a usage limit resets), resuming
 * `resumeSessionId` when known. Emitted again when the plan moves (a usage limit learned later).
 */
export const runnerRestartScheduledV1 = defineEvent({
  type: 'runner.restart-scheduled',
  version: 1,
  data: z.object({
    ...runnerRef,
    restartId: z.uuid(),
    attempt: z.number().int().positive(),
    maxRestarts: z.number().int().positive(),
    restartAt: z.iso.datetime({ offset: true }),
    reason: z.enum(['backoff', 'usage_limit']),
    resumeSessionId: z.string().min(1).nullable(),
  }),
});

/** A planned restart will not happen (`reason` says why) or its relaunch was refused. */
export const runnerRestartCancelledV1 = defineEvent({
  type: 'runner.restart-cancelled',
  version: 1,
  data: z.object({
    ...runnerRef,
    restartId: z.uuid(),
    reason: z.string().min(1),
  }),
});

export const runnerEvents = [
  runnerLaunchedV1,
  runnerStartingV1,
  runnerRunningV1,
  runnerStoppingV1,
  runnerStoppedV1,
  runnerCompletedV1,
  runnerFailedV1,
  runnerRestartScheduledV1,
  runnerRestartCancelledV1,
] as const;
