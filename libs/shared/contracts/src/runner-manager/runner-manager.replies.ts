import { z } from 'zod';

import { sessionActivitySchema } from '../heartbeat/heartbeat.schema';
import { runnerFailureReasonSchema } from '../runner-events';
import { plannedRestartReplySchema, restartPolicySchema } from './runner-launch-options';
import { desiredStateSchema, runnerStateSchema } from './runner-manager.requests';
import {
  removeWorktreeReplySchema,
  runnerWorktreeSchema,
  worktreeListReplySchema,
} from './worktree.replies';

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
  /**
   * Default launch estimate reserved in the project's budgets (`null`: none). Always sent by
   * runner-manager; optional so that a client reads a reply of an older one.
   */
  estimateTokens: z.number().int().nonnegative().nullable().optional(),
  estimateUsd: z.number().nonnegative().nullable().optional(),
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
  /*
   * Launch origin and restart policy (docs/runners.md, "Restart policy"). Always sent by
   * runner-manager; optional so that a client reads a reply of an older one.
   */
  /** Where the agent command runs (the project's path unless resumed or in a worktree). */
  cwd: z.string().nullable().optional(),
  /** The Claude session this runner resumes (`claude --resume <id>`). */
  resumedFrom: z.string().nullable().optional(),
  restartPolicy: restartPolicySchema.optional(),
  maxRestarts: z.number().int().nonnegative().optional(),
  /** The ended runner this one replaces. */
  restartOf: z.uuid().nullable().optional(),
  /** How many restarts led to this runner (0: the original launch). */
  restarts: z.number().int().nonnegative().optional(),
  /** The restart planned after this runner ended, if any. */
  restart: plannedRestartReplySchema.nullable().optional(),
  /**
   * Started by the user's CLI in their own terminal (`stratavore run`), not by runner-manager:
   * runner-manager never signals or reaps it; a stop reaches it through its heartbeats.
   */
  attached: z.boolean().optional(),
  /**
   * What its Claude session last did, from the agent's hooks (`waiting` / `idle` states: why and
   * since when); `null` without hooks.
   */
  activity: sessionActivitySchema.nullable().optional(),
  /** The git worktree it works in (docs/worktrees.md); `null`: the project's own tree. */
  worktree: runnerWorktreeSchema.nullable().optional(),
});

export const runnerListReplySchema = z.object({
  runners: z.array(runnerReplySchema),
  /**
   * Where the next page starts (`cursor` of the next request); `null`: this page is the last.
   * Always sent by runner-manager; optional so that a client reads a reply of an older one.
   */
  nextCursor: z.uuid().nullable().optional(),
});

export const queuedLaunchReplySchema = z.object({
  id: z.uuid(),
  project: z.object({ id: z.uuid(), name: z.string() }),
  /** FIFO order within the project; gaps are normal (cancelled entries). */
  position: z.number().int().positive(),
  mode: z.enum(['headless', 'interactive']),
  command: z.array(z.string()),
  prompt: z.string().nullable(),
  createdAt: timestamp,
  /** The launch's own estimate overrides (`null`: the project's default when admitted). */
  estimateTokens: z.number().int().nonnegative().nullable().optional(),
  estimateUsd: z.number().nonnegative().nullable().optional(),
  /** A restart waiting for a slot: the ended runner it replaces. */
  restartOf: z.uuid().nullable().optional(),
  resumedFrom: z.string().nullable().optional(),
});

/** `launched` (HTTP 201) or `queued` (HTTP 202) when the project was full and `queue: true`. */
export const launchRunnerReplySchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('launched'), runner: runnerReplySchema }),
  z.object({ status: z.literal('queued'), queuedLaunch: queuedLaunchReplySchema }),
]);

/**
 * `runners.attach`: the runner (`starting`) and what its agent needs. The token is in clear here
 * only: stored as its hash, it is never shown again.
 */
export const attachRunnerReplySchema = z.object({
  runner: runnerReplySchema,
  token: z.string().min(1),
  /** Where the agent sends heartbeats (heartbeat-ingest, or the daemon). */
  heartbeatUrl: z.string().min(1),
  heartbeatIntervalMs: z.number().int().positive(),
});

export const cancelQueuedReplySchema = z.object({ cancelled: queuedLaunchReplySchema });

export const projectStatusSchema = z.object({
  project: z.object({ id: z.uuid(), name: z.string() }),
  maxRunners: z.number().int(),
  /** Runners in pending, starting, running, waiting, idle or stopping. */
  active: z.number().int().nonnegative(),
  byState: z.object({
    pending: z.number().int().nonnegative(),
    starting: z.number().int().nonnegative(),
    running: z.number().int().nonnegative(),
    /** Always sent by runner-manager; optional so that a client reads a reply of an older one. */
    waiting: z.number().int().nonnegative().optional(),
    idle: z.number().int().nonnegative().optional(),
    stopping: z.number().int().nonnegative(),
  }),
  queued: z.array(queuedLaunchReplySchema),
});

export const runnersStatusReplySchema = z.object({ projects: z.array(projectStatusSchema) });

const byteOffset = z.number().int().nonnegative();

/**
 * A window of a runner's log. `content` is whole UTF-8 characters only (a character cut by the
 * window, or still being written, waits for the next read), so `nextOffset - offset` is its
 * exact length in bytes; bytes that are not UTF-8 arrive as U+FFFD.
 */
export const runnerLogsReplySchema = z.object({
  content: z.string(),
  /**
   * Where `content` starts: the requested offset (clamped to `size`, moved back to the start of
   * a character it fell inside) or the start of the `tail` lines.
   */
  offset: byteOffset,
  /** Where the next read starts. */
  nextOffset: byteOffset,
  /** The log's size in bytes when it was read. */
  size: byteOffset,
  runnerState: runnerStateSchema,
  /** The runner is terminal and everything was read: a follower can stop. */
  ended: z.boolean(),
});

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
  'runners.logs': runnerLogsReplySchema,
  'runners.resume': launchRunnerReplySchema,
  'runners.attach': attachRunnerReplySchema,
  'worktrees.list': worktreeListReplySchema,
  'worktrees.remove': removeWorktreeReplySchema,
} as const;

export type EnvEntryReply = z.output<typeof envEntryReplySchema>;
export type ProjectReply = z.output<typeof projectReplySchema>;
export type ProjectListReply = z.output<typeof projectListReplySchema>;
export type RunnerTokens = z.output<typeof runnerTokensSchema>;
export type RunnerReply = z.output<typeof runnerReplySchema>;
export type RunnerListReply = z.output<typeof runnerListReplySchema>;
export type QueuedLaunchReply = z.output<typeof queuedLaunchReplySchema>;
export type LaunchRunnerReply = z.output<typeof launchRunnerReplySchema>;
export type AttachRunnerReply = z.output<typeof attachRunnerReplySchema>;
export type CancelQueuedReply = z.output<typeof cancelQueuedReplySchema>;
export type ProjectStatus = z.output<typeof projectStatusSchema>;
export type RunnersStatusReply = z.output<typeof runnersStatusReplySchema>;
export type RunnerLogsReply = z.output<typeof runnerLogsReplySchema>;
