import { claudeHeadlessCommand, isClaudeCodeCommand } from '@stratavore/claude-code';
import {
  type ClaudePermissionMode,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_RESUME_PROMPT,
  type RestartPolicy,
} from '@stratavore/contracts';

import { type RunnerMode } from './runner';
import { type FieldIssue, RunnerException } from './runner.exception';

/** The launch fields that shape the command and the restart policy (`runners.launch|resume`). */
export interface LaunchCommandRequest {
  readonly mode: RunnerMode;
  readonly prompt?: string;
  readonly model?: string;
  readonly maxTurns?: number;
  readonly allowedTools?: readonly string[];
  readonly permissionMode?: ClaudePermissionMode;
  readonly restart?: RestartPolicy;
  readonly maxRestarts?: number;
}

/** What a launch runs. */
export interface ResolvedLaunch {
  readonly command: readonly string[];
  readonly prompt: string | null;
  readonly restartPolicy: RestartPolicy;
  readonly maxRestarts: number;
}

const CLAUDE_FIELDS = ['model', 'maxTurns', 'allowedTools', 'permissionMode'] as const;

function describe(command: readonly string[]): string {
  const text = command.join(' ');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * The command and prompt of a launch from the project's (or the request's) command:
 * - a headless launch of Claude Code with a prompt, a Claude option or a session to resume runs
 *   `<command> -p --output-format stream-json --verbose [--resume <id>] [options]`
 *   (`claudeHeadlessCommand`); the prompt is not in argv, the agent writes it to the process's
 *   stdin (a resume without a prompt gets `continue`);
 * - any other launch runs `base` as it is (the prompt, if any, also reaches the process on stdin).
 * Refused with ValidationFailed, one issue per field: a Claude option for a command that is not
 * Claude Code or for an interactive launch, Claude options without a prompt, `maxRestarts`
 * without `restart: on-failure`, a resume of a command that is not Claude Code.
 */
export function resolveLaunch(
  base: readonly string[],
  request: LaunchCommandRequest,
  resume?: string,
): ResolvedLaunch {
  const issues: FieldIssue[] = [];
  const given = CLAUDE_FIELDS.filter((field) => request[field] !== undefined);
  const claude = isClaudeCodeCommand(base);
  for (const field of given) {
    if (!claude) {
      issues.push({
        field,
        message: `applies to Claude Code only; the command is "${describe(base)}"`,
      });
    } else if (request.mode !== 'headless') {
      issues.push({ field, message: 'applies to headless launches only' });
    }
  }
  if (resume !== undefined && !claude) {
    issues.push({
      field: 'session',
      message: `cannot be resumed: the project's command "${describe(base)}" is not Claude Code`,
    });
  }
  const prompt = request.prompt ?? (resume === undefined ? null : DEFAULT_RESUME_PROMPT);
  if (claude && given.length > 0 && prompt === null && request.mode === 'headless') {
    issues.push({
      field: 'prompt',
      message: 'required with Claude Code options (claude -p reads the prompt on stdin)',
    });
  }
  const restartPolicy = request.restart ?? 'no';
  if (request.maxRestarts !== undefined && restartPolicy !== 'on-failure') {
    issues.push({ field: 'maxRestarts', message: 'allowed only with restart on-failure' });
  }
  if (issues.length > 0) throw RunnerException.validationFailed(issues);

  const headless =
    claude && request.mode === 'headless' && (prompt !== null || resume !== undefined);
  const command = headless
    ? (claudeHeadlessCommand(base, {
        ...(request.model === undefined ? {} : { model: request.model }),
        ...(request.maxTurns === undefined ? {} : { maxTurns: request.maxTurns }),
        ...(request.allowedTools === undefined ? {} : { allowedTools: request.allowedTools }),
        ...(request.permissionMode === undefined ? {} : { permissionMode: request.permissionMode }),
        ...(resume === undefined ? {} : { resume }),
      }) ?? base)
    : base;
  return {
    command,
    prompt,
    restartPolicy,
    maxRestarts: restartPolicy === 'on-failure' ? (request.maxRestarts ?? DEFAULT_MAX_RESTARTS) : 0,
  };
}
