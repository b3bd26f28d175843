import { z } from 'zod';

import { runnerFailureReasonSchema } from '../runner-events';
import { desiredStateSchema, runnerStateSchema } from './runner-manager.requests';

const timestamp = z.iso.datetime({ offset: true });

/** An env entry as the API shows it: a secret's value is always `null`. */
export const envEntryReplySchema = z.object({
  name: z.string(),
  value: z.string().nullable(),
  secret: z.boolean(),
});

export const projectReplySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  path: z.string(),
  description: z.string(),
  command: z.array(z.string()),
  maxRunners: z.number().int(),
  env: z.array(envEntryReplySchema),
  createdAt: timestamp,
  updatedAt: timestamp,
  archivedAt: timestamp.nullable(),
});

export const projectListReplySchema = z.object({ projects: z.array(projectReplySchema) });

/** Cumulative token counters of a runner (as last reported by its agent). */
export const runnerTokensSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheCreationTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
});

export const runnerReplySchema = z.object({
  id: z.uuid(),
  project: z.object({ id: z.uuid(), name: z.string() }),
  state: runnerStateSchema,
  desiredState: desiredStateSchema,
  mode: z.enum(['headless', 'interactive']),
  command: z.array(z.string()),
  prompt: z.string().nullable(),
  /** The agent's child (the real agent command), from heartbeats. */
  pid: z.number().int().nullable(),
  /** The `stratavore-agent` process. */
  agentPid: z.number().int().nullable(),
  host: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  failureReason: runnerFailureReasonSchema.nullable(),
  sessionId: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  endedAt: timestamp.nullable(),
  lastHeartbeatAt: timestamp.nullable(),
  cpuPercent: z.number().nullable(),
  memoryBytes: z.number().int().nullable(),
  tokens: runnerTokensSchema,
});

export const runnerListReplySchema = z.object({ runners: z.array(runnerReplySchema) });

export const queuedLaunchReplySchema = z.object({
  id: z.uuid(),
  project: z.object({ id: z.uuid(), name: z.string() }),
  /** FIFO order within the project; gaps are normal (cancelled entries). */
  position: z.number().int().positive(),
  mode: z.enum(['headless', 'interactive']),
  command: z.array(z.string()),
  prompt: z.string().nullable(),
  createdAt: timestamp,
});

/** `launched` (HTTP 201) or `queued` (HTTP 202) when the project was full and `queue: true`. */
export const launchRunnerReplySchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('launched'), runner: runnerReplySchema }),
  z.object({ status: z.literal('queued'), queuedLaunch: queuedLaunchReplySchema }),
]);

export const cancelQueuedReplySchema = z.object({ cancelled: queuedLaunchReplySchema });

export const projectStatusSchema = z.object({
  project: z.object({ id: z.uuid(), name: z.string() }),
  maxRunners: z.number().int(),
  /** Runners in pending, starting, running or stopping. */
  active: z.number().int().nonnegative(),
  byState: z.object({
    pending: z.number().int().nonnegative(),
    starting: z.number().int().nonnegative(),
    running: z.number().int().nonnegative(),
    stopping: z.number().int().nonnegative(),
  }),
  queued: z.array(queuedLaunchReplySchema),
});

export const runnersStatusReplySchema = z.object({ projects: z.array(projectStatusSchema) });

/** The reply schema of each pattern. */
export const runnerManagerReplySchemas = {
  'projects.create': projectReplySchema,
  'projects.list': projectListReplySchema,
  'projects.get': projectReplySchema,
  'projects.update': projectReplySchema,
  'projects.archive': projectReplySchema,
  'runners.launch': launchRunnerReplySchema,
  'runners.list': runnerListReplySchema,
  'runners.get': runnerReplySchema,
  'runners.stop': runnerReplySchema,
  'runners.cancel-queued': cancelQueuedReplySchema,
  'runners.status': runnersStatusReplySchema,
} as const;

export type EnvEntryReply = z.output<typeof envEntryReplySchema>;
export type ProjectReply = z.output<typeof projectReplySchema>;
export type ProjectListReply = z.output<typeof projectListReplySchema>;
export type RunnerTokens = z.output<typeof runnerTokensSchema>;
export type RunnerReply = z.output<typeof runnerReplySchema>;
export type RunnerListReply = z.output<typeof runnerListReplySchema>;
export type QueuedLaunchReply = z.output<typeof queuedLaunchReplySchema>;
export type LaunchRunnerReply = z.output<typeof launchRunnerReplySchema>;
export type CancelQueuedReply = z.output<typeof cancelQueuedReplySchema>;
export type ProjectStatus = z.output<typeof projectStatusSchema>;
export type RunnersStatusReply = z.output<typeof runnersStatusReplySchema>;
