import { Flags } from '@oclif/core';
import { type LaunchRunnerInput } from '@stratavore/api-client';
import {
  allowedToolsSchema,
  CLAUDE_PERMISSION_MODES,
  claudeModelSchema,
  type ClaudePermissionMode,
  maxRestartsSchema,
  maxTurnsSchema,
  RESTART_POLICIES,
  type RestartPolicy,
} from '@stratavore/contracts';
import { type z } from 'zod';

/** The first problem zod found, as oclif's flag error (it prefixes "Parsing --flag"). */
function parseWith<S extends z.ZodType>(schema: S, value: unknown, input: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`${parsed.error.issues[0]?.message ?? 'invalid value'}, got "${input}"`);
}

/** A whole number in a string, else the string itself (for the schema to refuse). */
function wholeNumber(input: string): unknown {
  return /^\d+$/.test(input.trim()) ? Number(input.trim()) : input;
}

/** `Bash,Read` or `Bash(git *),Edit`: comma-separated tool rules. */
export function parseAllowedTools(input: string): string[] {
  const tools = input
    .split(',')
    .map((tool) => tool.trim())
    .filter((tool) => tool.length > 0);
  return parseWith(allowedToolsSchema, tools, input);
}

/**
 * The Claude Code and restart flags of `launch` and `resume` (docs/claude-code.md, "Launching
 * Claude Code"; docs/runners.md, "Restart policy").
 */
export const claudeLaunchFlags = {
  model: Flags.custom<string>({
    description: 'Claude Code: --model (an alias such as sonnet or a full model id)',
    helpValue: 'MODEL',
    parse: (input) => Promise.resolve(parseWith(claudeModelSchema, input, input)),
  })(),
  'max-turns': Flags.custom<number>({
    description: 'Claude Code: --max-turns, agentic turns before it stops (resumable)',
    helpValue: 'N',
    parse: (input) => Promise.resolve(parseWith(maxTurnsSchema, wholeNumber(input), input)),
  })(),
  'allowed-tools': Flags.custom<string[]>({
    description: 'Claude Code: --allowedTools, comma-separated (e.g. "Bash(git *),Read,Edit")',
    helpValue: 'TOOLS',
    aliases: ['allowedTools'],
    parse: (input) => Promise.resolve(parseAllowedTools(input)),
  })(),
  'permission-mode': Flags.custom<ClaudePermissionMode>({
    description: 'Claude Code: --permission-mode',
    options: [...CLAUDE_PERMISSION_MODES],
    parse: (input) => Promise.resolve(input as ClaudePermissionMode),
  })(),
  restart: Flags.custom<RestartPolicy>({
    description:
      'on-failure: when it fails, launch a replacement after a backoff (a Claude session is resumed; a usage limit waits for its reset); default no',
    options: [...RESTART_POLICIES],
    parse: (input) => Promise.resolve(input as RestartPolicy),
  })(),
  'max-restarts': Flags.custom<number>({
    description: 'with --restart on-failure: restarts at most (default 3)',
    helpValue: 'N',
    parse: (input) => Promise.resolve(parseWith(maxRestartsSchema, wholeNumber(input), input)),
  })(),
};

export interface ClaudeLaunchFlagValues {
  readonly model?: string;
  readonly 'max-turns'?: number;
  readonly 'allowed-tools'?: string[];
  readonly 'permission-mode'?: ClaudePermissionMode;
  readonly restart?: RestartPolicy;
  readonly 'max-restarts'?: number;
}

/**
 * The request fields of the flags; a problem between flags is returned as a usage message
 * (`--max-restarts` needs `--restart on-failure`).
 */
export function claudeLaunchInput(
  flags: ClaudeLaunchFlagValues,
): { readonly input: LaunchRunnerInput } | { readonly usage: string } {
  if (flags['max-restarts'] !== undefined && flags.restart !== 'on-failure') {
    return { usage: '--max-restarts needs --restart on-failure' };
  }
  return {
    input: {
      ...(flags.model === undefined ? {} : { model: flags.model }),
      ...(flags['max-turns'] === undefined ? {} : { maxTurns: flags['max-turns'] }),
      ...(flags['allowed-tools'] === undefined ? {} : { allowedTools: flags['allowed-tools'] }),
      ...(flags['permission-mode'] === undefined
        ? {}
        : { permissionMode: flags['permission-mode'] }),
      ...(flags.restart === undefined ? {} : { restart: flags.restart }),
      ...(flags['max-restarts'] === undefined ? {} : { maxRestarts: flags['max-restarts'] }),
    },
  };
}
