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
    /** `attached`: the user's CLI started the agent in its terminal (`stratavore run`). */
    launcher: z.enum(['local', 'kubernetes', 'attached']),
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

const activityFields = {
  /**
   * What Claude Code said: the Notification's `notification_type` (`permission_prompt`,
   * `idle_prompt`, `elicitation_dialog`, ...) or the hook's name (`Stop`, `UserPromptSubmit`).
   */
  reason: z.string().min(1).max(64),
  /** When the agent heard of it. */
  since: z.iso.datetime({ offset: true }),
  sessionId: z.string().min(1).optional(),
};

/**
 * Claude Code in the runner waits for a person (a permission prompt, a question, the idle
 * reminder), from its Notification hook (docs/claude-code.md, "Hooks"). Once per transition.
 */
export const runnerWaitingV1 = defineEvent({
  type: 'runner.waiting',
  version: 1,
  data: z.object({
    ...runnerRef,
    ...activityFields,
    /** The notification's text ("Claude needs your permission to use Bash"). */
    message: z.string().nullable(),
  }),
});

/**
 * Claude Code finished its turn (Stop hook) and the interactive session waits for the next
 * prompt. Once per transition.
 */
export const runnerIdleV1 = defineEvent({
  type: 'runner.idle',
  version: 1,
  data: z.object({ ...runnerRef, ...activityFields }),
});

/** A `waiting` or `idle` runner works again (a prompt was submitted, a tool ran). */
export const runnerResumedWorkV1 = defineEvent({
  type: 'runner.resumed-work',
  version: 1,
  data: z.object({
    ...runnerRef,
    ...activityFields,
    from: z.enum(['waiting', 'idle']),
    /** How long it was `waiting` or `idle`, by the agent's clock. */
    waitedMs: z.number().int().nonnegative(),
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
  runnerWaitingV1,
  runnerIdleV1,
  runnerResumedWorkV1,
  runnerStoppingV1,
  runnerStoppedV1,
  runnerCompletedV1,
  runnerFailedV1,
  runnerRestartScheduledV1,
  runnerRestartCancelledV1,
] as const;
