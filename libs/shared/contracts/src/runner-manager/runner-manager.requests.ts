import { z } from 'zod';

import { MAX_TOKENS, MAX_USD } from '../budget-service/budget-service.requests';
import { sessionIdSchema } from '../session-store/session-events';
import { claudeLaunchFields, restartFields } from './runner-launch-options';

/** The bus service name of runner-manager. */
export const RUNNER_MANAGER_SERVICE = 'runner-manager';

/** Request patterns served by runner-manager (docs/runners.md). */
export const runnerManagerPatterns = [
  'projects.create',
  'projects.list',
  'projects.get',
  'projects.update',
  'projects.archive',
  'runners.launch',
  'runners.list',
  'runners.get',
  'runners.stop',
  'runners.cancel-queued',
  'runners.status',
  'runners.logs',
  'runners.resume',
  'runners.attach',
  'worktrees.list',
  'worktrees.remove',
] as const;

export const runnerManagerPatternSchema = z.enum(runnerManagerPatterns);
export type RunnerManagerPattern = z.infer<typeof runnerManagerPatternSchema>;

/**
 * Runner states; terminal: `completed`, `failed`, `stopped`. `waiting` (Claude Code needs a
 * person) and `idle` (an interactive turn finished) come from the agent's Claude Code hooks.
 */
export const runnerStateSchema = z.enum([
  'pending',
  'starting',
  'running',
  'waiting',
  'idle',
  'stopping',
  'completed',
  'failed',
  'stopped',
]);

/** What the user wants of a runner; the agent reads it in its heartbeat answer. */
export const desiredStateSchema = z.enum(['run', 'stop', 'kill']);

export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_RUNNERS_LIMIT = 1000;
export const DEFAULT_AGENT_COMMAND: readonly string[] = ['claude'];

export const projectNameSchema = z.string().regex(PROJECT_NAME_PATTERN, {
  error: `expected a project name matching ${PROJECT_NAME_PATTERN.source} (lowercase letters, digits and dashes, at most 63 characters)`,
});

/** A project by id (uuid) or by name (non-archived projects only). */
export const projectRefSchema = z
  .string({ error: 'expected a project id or name' })
  .min(1, { error: 'expected a project id or name' });

const absolutePathSchema = z
  .string({ error: 'expected an absolute path' })
  .regex(/^\//, { error: 'expected an absolute path (starting with /)' });

/** An argv array: at least the program, no empty strings. */
export const commandSchema = z
  .array(z.string().min(1, { error: 'expected a non-empty argument' }), {
    error: 'expected an argv array of strings',
  })
  .min(1, { error: 'expected at least the program to run' });

const maxRunnersSchema = z
  .number({ error: `expected an integer from 1 to ${MAX_RUNNERS_LIMIT}` })
  .int({ error: `expected an integer from 1 to ${MAX_RUNNERS_LIMIT}` })
  .min(1, { error: `expected an integer from 1 to ${MAX_RUNNERS_LIMIT}` })
  .max(MAX_RUNNERS_LIMIT, { error: `expected an integer from 1 to ${MAX_RUNNERS_LIMIT}` });

/**
 * What a launch is expected to spend in tokens: reserved in every budget covering the project
 * before the launch (docs/budgets.md, "Launch-time reservation and enforcement").
 */
export const estimateTokensSchema = z
  .number({ error: 'expected a whole number of tokens (0 or more)' })
  .int({ error: 'expected a whole number of tokens (0 or more)' })
  .min(0, { error: 'expected a whole number of tokens (0 or more)' })
  .max(MAX_TOKENS, { error: `expected at most ${MAX_TOKENS} tokens` });

/** What a launch is expected to spend in USD (reserved like {@link estimateTokensSchema}). */
export const estimateUsdSchema = z
  .number({ error: 'expected an amount in USD (0 or more)' })
  .min(0, { error: 'expected an amount in USD (0 or more)' })
  .max(MAX_USD, { error: `expected at most ${MAX_USD} USD` });

/**
 * One environment variable of a project. In an update, a secret entry without `value` keeps the
 * stored value (clients never see secret values, so they cannot send them back).
 */
export const envEntryInputSchema = z.strictObject({
  name: z.string().regex(ENV_NAME_PATTERN, {
    error: `expected an environment variable name matching ${ENV_NAME_PATTERN.source}`,
  }),
  value: z.string({ error: 'expected a string value' }).optional(),
  secret: z.boolean({ error: 'expected true or false' }).default(false),
});

const envListSchema = z.array(envEntryInputSchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.name)) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `expected unique names; ${entry.name} appears twice`,
      });
    }
    seen.add(entry.name);
  });
});

export const createProjectRequestSchema = z.strictObject({
  name: projectNameSchema,
  path: absolutePathSchema,
  description: z.string().max(2000).default(''),
  command: commandSchema.default([...DEFAULT_AGENT_COMMAND]),
  maxRunners: maxRunnersSchema.default(1),
  env: envListSchema
    .superRefine((entries, ctx) => {
      entries.forEach((entry, index) => {
        if (entry.value === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'value'],
            message: 'expected a string value',
          });
        }
      });
    })
    .default([]),
  /** Default launch estimate in tokens; `null` or absent: none (reserves 0 tokens). */
  estimateTokens: estimateTokensSchema.nullable().optional(),
  /** Default launch estimate in USD; `null` or absent: none (reserves 0 USD). */
  estimateUsd: estimateUsdSchema.nullable().optional(),
});

export const listProjectsRequestSchema = z.strictObject({
  includeArchived: z.boolean().default(false),
});

export const getProjectRequestSchema = z.strictObject({ project: projectRefSchema });

export const updateProjectRequestSchema = z.strictObject({
  project: projectRefSchema,
  name: projectNameSchema.optional(),
  path: absolutePathSchema.optional(),
  description: z.string().max(2000).optional(),
  command: commandSchema.optional(),
  maxRunners: maxRunnersSchema.optional(),
  /** Replaces the whole list. */
  env: envListSchema.optional(),
  /** New default launch estimate in tokens; `null` clears it. */
  estimateTokens: estimateTokensSchema.nullable().optional(),
  /** New default launch estimate in USD; `null` clears it. */
  estimateUsd: estimateUsdSchema.nullable().optional(),
});

export const archiveProjectRequestSchema = z.strictObject({ project: projectRefSchema });

export const launchRunnerRequestSchema = z.strictObject({
  project: projectRefSchema,
  prompt: z.string().min(1).max(100_000).optional(),
  /** Overrides the project's default command. */
  command: commandSchema.optional(),
  mode: z.enum(['headless', 'interactive']).default('headless'),
  /** When the project is full: wait in its FIFO queue instead of failing with QuotaExceeded. */
  queue: z.boolean({ error: 'expected true or false' }).default(false),
  /** Overrides the project's default launch estimate in tokens for this launch. */
  estimateTokens: estimateTokensSchema.optional(),
  /** Overrides the project's default launch estimate in USD for this launch. */
  estimateUsd: estimateUsdSchema.optional(),
  /** Claude Code only, headless: `--model`, `--max-turns`, `--allowedTools`, `--permission-mode`. */
  ...claudeLaunchFields,
  /** Launch a replacement when the runner fails (docs/runners.md, "Restart policy"). */
  ...restartFields,
  /**
   * Run in a git worktree of its own, on branch `stratavore/<runner id>` made from the project's
   * HEAD (docs/worktrees.md); the project's path must be in a git repository.
   */
  worktree: z.boolean({ error: 'expected true or false' }).optional(),
});

/**
 * `runners.resume`: a runner on `claude --resume <session> -p ...` in the session's project and
 * working directory, so the same session goes on (docs/claude-code.md, "Launching Claude Code").
 */
export const resumeSessionRequestSchema = z.strictObject({
  session: sessionIdSchema,
  /** What to tell the resumed session; default `continue`. */
  prompt: z.string().min(1).max(100_000).optional(),
  queue: z.boolean({ error: 'expected true or false' }).default(false),
  estimateTokens: estimateTokensSchema.optional(),
  estimateUsd: estimateUsdSchema.optional(),
  ...claudeLaunchFields,
  ...restartFields,
});

/**
 * `runners.attach`: registers a runner whose agent the user starts in their own terminal
 * (`stratavore run`). Admitted against the project's quota and budgets like a launch, but never
 * queued and never started by runner-manager: the reply carries the runner token and the
 * heartbeat URL for the agent the caller starts (docs/runners.md, "Attached runners").
 */
export const attachRunnerRequestSchema = z.strictObject({
  project: projectRefSchema,
  /** What runs in the terminal; default the project's command. */
  command: commandSchema.optional(),
  /** Where it runs; default the project's path. */
  cwd: absolutePathSchema.optional(),
  /** The machine the agent runs on (`os.hostname()` of the caller). */
  host: z
    .string({ error: 'expected a host name' })
    .min(1, { error: 'expected a host name' })
    .max(255, { error: 'expected at most 255 characters' }),
  estimateTokens: estimateTokensSchema.optional(),
  estimateUsd: estimateUsdSchema.optional(),
});

/** Runners in one page of `runners.list` when the request names no `limit`. */
export const RUNNER_LIST_DEFAULT_LIMIT = 50;
/** Most runners one page of `runners.list` may hold. */
export const RUNNER_LIST_MAX_LIMIT = 500;

const runnerIdSchema = z.uuid({ error: 'expected a runner id (uuid)' });

/**
 * A page of runners, newest first (`createdAt`, then id, descending). `cursor` is the
 * `nextCursor` of the previous page: the page then starts after that runner, with the same
 * filters.
 */
export const listRunnersRequestSchema = z.strictObject({
  project: projectRefSchema.optional(),
  states: z.array(runnerStateSchema).min(1).optional(),
  limit: z.number().int().min(1).max(RUNNER_LIST_MAX_LIMIT).default(RUNNER_LIST_DEFAULT_LIMIT),
  cursor: z.uuid({ error: 'expected the nextCursor of a previous page' }).optional(),
});

export const getRunnerRequestSchema = z.strictObject({ runner: runnerIdSchema });

export const stopRunnerRequestSchema = z.strictObject({
  runner: runnerIdSchema,
  /** `true`: desired state `kill` and SIGKILL; otherwise `stop` and SIGTERM. */
  force: z.boolean().default(false),
});

export const cancelQueuedRequestSchema = z.strictObject({
  queuedLaunch: z.uuid({ error: 'expected a queued launch id (uuid)' }),
});

export const runnersStatusRequestSchema = z.strictObject({
  project: projectRefSchema.optional(),
});

/** Default and largest `limitBytes` of one `runners.logs` read. */
export const RUNNER_LOG_DEFAULT_LIMIT_BYTES = 64 * 1024;
export const RUNNER_LOG_MAX_LIMIT_BYTES = 1024 * 1024;
/** Largest `tail` of a `runners.logs` read. */
export const RUNNER_LOG_MAX_TAIL_LINES = 100_000;

/**
 * One read of a runner's log (the agent command's stdout and stderr, docs/runners.md#logs):
 * at most `limitBytes` bytes from byte `offset`, or, with `tail`, from the start of the last
 * `tail` lines (for the first read; a follower then goes on from the reply's `nextOffset`).
 */
export const runnerLogsRequestSchema = z
  .strictObject({
    runner: runnerIdSchema,
    offset: z
      .number({ error: 'expected a byte offset (an integer >= 0)' })
      .int({ error: 'expected a byte offset (an integer >= 0)' })
      .min(0, { error: 'expected a byte offset (an integer >= 0)' })
      .default(0),
    limitBytes: z
      .number({ error: `expected an integer from 1 to ${RUNNER_LOG_MAX_LIMIT_BYTES}` })
      .int({ error: `expected an integer from 1 to ${RUNNER_LOG_MAX_LIMIT_BYTES}` })
      .min(1, { error: `expected an integer from 1 to ${RUNNER_LOG_MAX_LIMIT_BYTES}` })
      .max(RUNNER_LOG_MAX_LIMIT_BYTES, {
        error: `expected an integer from 1 to ${RUNNER_LOG_MAX_LIMIT_BYTES}`,
      })
      .default(RUNNER_LOG_DEFAULT_LIMIT_BYTES),
    tail: z
      .number({ error: `expected a number of lines from 0 to ${RUNNER_LOG_MAX_TAIL_LINES}` })
      .int({ error: `expected a number of lines from 0 to ${RUNNER_LOG_MAX_TAIL_LINES}` })
      .min(0, { error: `expected a number of lines from 0 to ${RUNNER_LOG_MAX_TAIL_LINES}` })
      .max(RUNNER_LOG_MAX_TAIL_LINES, {
        error: `expected a number of lines from 0 to ${RUNNER_LOG_MAX_TAIL_LINES}`,
      })
      .optional(),
  })
  .superRefine((request, ctx) => {
    if (request.tail !== undefined && request.offset > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tail'],
        message: 'expected either tail (first read) or offset (next reads), not both',
      });
    }
  });

/** `worktrees.list`: the git worktrees made for runners (docs/worktrees.md). */
export const listWorktreesRequestSchema = z.strictObject({
  project: projectRefSchema.optional(),
  /** Also the worktrees already removed. */
  includeRemoved: z.boolean({ error: 'expected true or false' }).default(false),
});

/**
 * `worktrees.remove`: removes the worktree made for `runner` and its branch. Refused while a
 * runner works in it; refused when it has uncommitted changes or commits the project's HEAD
 * does not have, unless `force`.
 */
export const removeWorktreeRequestSchema = z.strictObject({
  runner: runnerIdSchema,
  force: z.boolean({ error: 'expected true or false' }).default(false),
});

/** The payload schema of each pattern. */
export const runnerManagerRequestSchemas = {
  'projects.create': createProjectRequestSchema,
  'projects.list': listProjectsRequestSchema,
  'projects.get': getProjectRequestSchema,
  'projects.update': updateProjectRequestSchema,
  'projects.archive': archiveProjectRequestSchema,
  'runners.launch': launchRunnerRequestSchema,
  'runners.list': listRunnersRequestSchema,
  'runners.get': getRunnerRequestSchema,
  'runners.stop': stopRunnerRequestSchema,
  'runners.cancel-queued': cancelQueuedRequestSchema,
  'runners.status': runnersStatusRequestSchema,
  'runners.logs': runnerLogsRequestSchema,
  'runners.resume': resumeSessionRequestSchema,
  'runners.attach': attachRunnerRequestSchema,
  'worktrees.list': listWorktreesRequestSchema,
  'worktrees.remove': removeWorktreeRequestSchema,
} as const satisfies Record<RunnerManagerPattern, z.ZodType>;

export type CreateProjectRequest = z.output<typeof createProjectRequestSchema>;
export type ListProjectsRequest = z.output<typeof listProjectsRequestSchema>;
export type GetProjectRequest = z.output<typeof getProjectRequestSchema>;
export type UpdateProjectRequest = z.output<typeof updateProjectRequestSchema>;
export type ArchiveProjectRequest = z.output<typeof archiveProjectRequestSchema>;
export type LaunchRunnerRequest = z.output<typeof launchRunnerRequestSchema>;
export type ListRunnersRequest = z.output<typeof listRunnersRequestSchema>;
export type GetRunnerRequest = z.output<typeof getRunnerRequestSchema>;
export type StopRunnerRequest = z.output<typeof stopRunnerRequestSchema>;
export type CancelQueuedRequest = z.output<typeof cancelQueuedRequestSchema>;
export type RunnersStatusRequest = z.output<typeof runnersStatusRequestSchema>;
export type RunnerLogsRequest = z.output<typeof runnerLogsRequestSchema>;
export type ResumeSessionRequest = z.output<typeof resumeSessionRequestSchema>;
export type AttachRunnerRequest = z.output<typeof attachRunnerRequestSchema>;
export type EnvEntryInput = z.output<typeof envEntryInputSchema>;
export type ListWorktreesRequest = z.output<typeof listWorktreesRequestSchema>;
export type RemoveWorktreeRequest = z.output<typeof removeWorktreeRequestSchema>;
