import { z } from 'zod';

/**
 * Launch options for Claude Code runners and restart policies (docs/claude-code.md, "Launching
 * Claude Code"; docs/runners.md, "Restart policy"), shared by `runners.launch` and
 * `runners.resume`. Rules that need the project (a Claude Code command, headless mode,
 * `maxRestarts` only with `on-failure`) are checked by runner-manager, field by field.
 */

/** The permission modes `claude --permission-mode` accepts (CLI 2.1.112). */
export const CLAUDE_PERMISSION_MODES = [
  'acceptEdits',
  'auto',
  'bypassPermissions',
  'default',
  'dontAsk',
  'plan',
] as const;
export type ClaudePermissionMode = (typeof CLAUDE_PERMISSION_MODES)[number];

/**
 * A model id or alias as Claude Code takes it: `sonnet`, `claude-sonnet-4-5-20250929`,
 * `anthropic.claude-sonnet-4-5-20250929-v1:0` (Bedrock), `claude-sonnet-4-5@20250929` (Vertex),
 * `opus[1m]`.
 */
export const CLAUDE_MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/[\]-]{0,127}$/;

export const claudeModelSchema = z
  .string({ error: 'expected a model id or alias' })
  .regex(CLAUDE_MODEL_PATTERN, {
    error: `expected a model id or alias such as sonnet or claude-sonnet-4-5 (matching ${CLAUDE_MODEL_PATTERN.source})`,
  });

export const MAX_TURNS_LIMIT = 10_000;

export const maxTurnsSchema = z
  .number({ error: `expected an integer from 1 to ${MAX_TURNS_LIMIT}` })
  .int({ error: `expected an integer from 1 to ${MAX_TURNS_LIMIT}` })
  .min(1, { error: `expected an integer from 1 to ${MAX_TURNS_LIMIT}` })
  .max(MAX_TURNS_LIMIT, { error: `expected an integer from 1 to ${MAX_TURNS_LIMIT}` });

/**
 * One tool rule of `--allowedTools` (`Read`, `Bash(git *)`, `mcp__github__list_prs`): no
 * comma (the rules travel comma-joined in one argument), not starting with `-` or a space.
 */
export const CLAUDE_TOOL_PATTERN = /^[^\s,-][^,\p{Cc}]*$/u;
export const MAX_ALLOWED_TOOLS = 100;

export const allowedToolsSchema = z
  .array(
    z
      .string({ error: 'expected a tool name such as Read or Bash(git *)' })
      .max(200, { error: 'expected at most 200 characters' })
      .regex(CLAUDE_TOOL_PATTERN, {
        error: 'expected a tool name such as Read or Bash(git *): no comma, no leading - or space',
      }),
    { error: 'expected a list of tool names' },
  )
  .min(1, { error: 'expected at least one tool' })
  .max(MAX_ALLOWED_TOOLS, { error: `expected at most ${MAX_ALLOWED_TOOLS} tools` });

export const permissionModeSchema = z.enum(CLAUDE_PERMISSION_MODES, {
  error: `expected one of ${CLAUDE_PERMISSION_MODES.join(', ')}`,
});

/** `no`: a runner that ends is never launched again; `on-failure`: see docs/runners.md. */
export const RESTART_POLICIES = ['no', 'on-failure'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

export const restartPolicySchema = z.enum(RESTART_POLICIES, {
  error: `expected one of ${RESTART_POLICIES.join(', ')}`,
});

/** Restarts allowed by `on-failure` when `maxRestarts` is not given. */
export const DEFAULT_MAX_RESTARTS = 3;
export const MAX_RESTARTS_LIMIT = 100;

export const maxRestartsSchema = z
  .number({ error: `expected an integer from 1 to ${MAX_RESTARTS_LIMIT}` })
  .int({ error: `expected an integer from 1 to ${MAX_RESTARTS_LIMIT}` })
  .min(1, { error: `expected an integer from 1 to ${MAX_RESTARTS_LIMIT}` })
  .max(MAX_RESTARTS_LIMIT, { error: `expected an integer from 1 to ${MAX_RESTARTS_LIMIT}` });

/** The prompt a resumed session gets when none is given (`claude -p` needs one on stdin). */
export const DEFAULT_RESUME_PROMPT = 'continue';

/**
 * Claude Code options of a headless launch: each becomes the CLI flag of the same name
 * (`--model`, `--max-turns`, `--allowedTools`, `--permission-mode`). Refused with a field error
 * when the launch's command is not Claude Code or the launch is interactive.
 */
export const claudeLaunchFields = {
  model: claudeModelSchema.optional(),
  maxTurns: maxTurnsSchema.optional(),
  allowedTools: allowedToolsSchema.optional(),
  permissionMode: permissionModeSchema.optional(),
};

/**
 * The restart policy of a launch (absent: `no`); `maxRestarts` only with `on-failure` (default 3
 * there).
 */
export const restartFields = {
  restart: restartPolicySchema.optional(),
  maxRestarts: maxRestartsSchema.optional(),
};

/** Why a restart was planned: after a failure (exponential backoff) or at a usage limit's reset. */
export const restartReasonSchema = z.enum(['backoff', 'usage_limit']);

/**
 * Where a planned restart stands: `scheduled` (waits for `at`), `launched` (its runner is
 * `replacementId`), `queued` (the project was full: `replacementId` is the queued launch),
 * `cancelled` (the session result showed a limit the user set, the project was archived, ...),
 * `failed` (the relaunch was refused, e.g. by a budget; `detail` says why).
 */
export const plannedRestartStateSchema = z.enum([
  'scheduled',
  'launched',
  'queued',
  'cancelled',
  'failed',
]);

/** The restart planned for an ended runner with `restart: on-failure`. */
export const plannedRestartReplySchema = z.object({
  id: z.uuid(),
  /** 1 for the first restart of the original runner, 2 for the next, ... */
  attempt: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
  reason: restartReasonSchema,
  state: plannedRestartStateSchema,
  /** The Claude session the replacement resumes (`--resume`); `null`: it starts afresh. */
  resumeSessionId: z.string().nullable(),
  replacementId: z.uuid().nullable(),
  detail: z.string().nullable(),
});

export type RestartReason = z.infer<typeof restartReasonSchema>;
export type PlannedRestartState = z.infer<typeof plannedRestartStateSchema>;
export type PlannedRestartReply = z.output<typeof plannedRestartReplySchema>;
