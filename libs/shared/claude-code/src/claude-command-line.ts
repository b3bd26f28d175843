/**
 * Claude Code command lines: recognising the program in an argv array (`claude`, a path ending
 * in `/claude`, `node .../@anthropic-ai/claude-code/cli.js`, `npx @anthropic-ai/claude-code`)
 * and building the headless form runner-manager launches (docs/claude-code.md, "Launching
 * Claude Code"). Pure: no file or process access.
 */

const CLAUDE_EXECUTABLE = /^claude(?:\.exe|\.cmd)?$/i;
const LAUNCHERS = /^(?:node|nodejs|npx|bunx?)(?:\.exe)?$/i;
const CLAUDE_PACKAGE = /@anthropic-ai[\\/]claude-code/;

/** The last segment of a path, for `/` and `\` separators alike. */
function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/**
 * Where the Claude Code program sits in `command`: 0 for `claude` (or a path to it), 1 when a
 * launcher runs it (`node .../@anthropic-ai/claude-code/cli.js`, `npx @anthropic-ai/claude-code`),
 * -1 for any other command.
 */
export function claudeProgramIndex(command: readonly string[]): number {
  const first = command[0];
  if (first === undefined) return -1;
  if (CLAUDE_EXECUTABLE.test(baseName(first))) return 0;
  if (!LAUNCHERS.test(baseName(first))) return -1;
  const second = command[1];
  if (second === undefined) return -1;
  return CLAUDE_EXECUTABLE.test(baseName(second)) || CLAUDE_PACKAGE.test(second) ? 1 : -1;
}

/** True when `command` runs Claude Code (see {@link claudeProgramIndex}). */
export function isClaudeCodeCommand(command: readonly string[]): boolean {
  return claudeProgramIndex(command) !== -1;
}

/** What a headless launch may set on top of the project's command. */
export interface ClaudeHeadlessOptions {
  /** `--model`. */
  readonly model?: string;
  /** `--max-turns`. */
  readonly maxTurns?: number;
  /** `--allowedTools`, joined with commas into one argument. */
  readonly allowedTools?: readonly string[];
  /** `--permission-mode`. */
  readonly permissionMode?: string;
  /** `--resume <session id>`: the same session goes on under the same id. */
  readonly resume?: string;
}

/** How many values an option takes: none, one, one if the next word is not an option, many. */
type Arity = 0 | 1 | 'optional' | 'variadic';

interface OptionSpec {
  readonly names: readonly string[];
  readonly arity: Arity;
}

const PRINT: OptionSpec = { names: ['-p', '--print'], arity: 0 };
const OUTPUT_FORMAT: OptionSpec = { names: ['--output-format'], arity: 1 };
const VERBOSE: OptionSpec = { names: ['--verbose'], arity: 0 };
const MODEL: OptionSpec = { names: ['--model'], arity: 1 };
const MAX_TURNS: OptionSpec = { names: ['--max-turns'], arity: 1 };
const ALLOWED_TOOLS: OptionSpec = {
  names: ['--allowedTools', '--allowed-tools'],
  arity: 'variadic',
};
const PERMISSION_MODE: OptionSpec = { names: ['--permission-mode'], arity: 1 };
/** Everything that picks the session: replaced as a whole by `--resume <id>`. */
const SESSION_CHOICE: readonly OptionSpec[] = [
  { names: ['-r', '--resume'], arity: 'optional' },
  { names: ['-c', '--continue'], arity: 0 },
  { names: ['--session-id'], arity: 1 },
];

function matches(arg: string, spec: OptionSpec): 'bare' | 'inline' | null {
  for (const name of spec.names) {
    if (arg === name) return 'bare';
    if (name.startsWith('--') && arg.startsWith(`${name}=`)) return 'inline';
  }
  return null;
}

const isValue = (arg: string | undefined): arg is string =>
  arg !== undefined && !arg.startsWith('-');

/** `args` without every occurrence of the options in `specs` (and their values). */
function without(args: readonly string[], specs: readonly OptionSpec[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      kept.push(...args.slice(index));
      break;
    }
    let skipped = false;
    for (const spec of specs) {
      const form = matches(arg, spec);
      if (form === null) continue;
      skipped = true;
      if (form === 'inline') break;
      if (spec.arity === 1) index += 1;
      else if (spec.arity === 'optional' && isValue(args[index + 1])) index += 1;
      else if (spec.arity === 'variadic') {
        while (isValue(args[index + 1])) index += 1;
      }
      break;
    }
    if (!skipped) kept.push(arg);
  }
  return kept;
}

/** True when `args` already ask for `--output-format stream-json` (and nothing else). */
function hasStreamJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  const formats: string[] = [];
  options.forEach((arg, index) => {
    if (arg === '--output-format') formats.push(options[index + 1] ?? '');
    else if (arg.startsWith('--output-format=')) formats.push(arg.slice('--output-format='.length));
  });
  return formats.length > 0 && formats.every((format) => format === 'stream-json');
}

function has(args: readonly string[], spec: OptionSpec): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => matches(arg, spec) !== null);
}

/**
 * The headless form of a Claude Code command: `<command> -p --output-format stream-json
 * --verbose [--resume <id>] [--model M] [--max-turns N] [--permission-mode M] [--allowedTools
 * a,b]`. `-p`, `--output-format stream-json` and `--verbose` are added when missing (another
 * output format is replaced: the agent reads that stream for the session's usage), so that
 * building the command again changes nothing; each option given
 * replaces the same option in `command` (`resume` replaces `--resume`, `--continue` and
 * `--session-id`). The prompt is not part of it: the agent writes it to the process's stdin.
 * `--allowedTools` comes last because it takes every following word as a tool.
 *
 * @returns null when `command` is not Claude Code.
 */
export function claudeHeadlessCommand(
  command: readonly string[],
  options: ClaudeHeadlessOptions = {},
): string[] | null {
  const program = claudeProgramIndex(command);
  if (program === -1) return null;
  const head = command.slice(0, program + 1);
  const streamJson = hasStreamJson(command.slice(program + 1));
  const replaced: OptionSpec[] = streamJson ? [] : [OUTPUT_FORMAT];
  if (options.resume !== undefined) replaced.push(...SESSION_CHOICE);
  if (options.model !== undefined) replaced.push(MODEL);
  if (options.maxTurns !== undefined) replaced.push(MAX_TURNS);
  if (options.permissionMode !== undefined) replaced.push(PERMISSION_MODE);
  if (options.allowedTools !== undefined) replaced.push(ALLOWED_TOOLS);
  const args = without(command.slice(program + 1), replaced);
  // Options go before a `--` the command may have; what follows it is the command's own.
  const end = args.indexOf('--');
  const before = end === -1 ? args : args.slice(0, end);
  const after = end === -1 ? [] : args.slice(end);
  const added: string[] = [];
  if (!has(before, PRINT)) added.push('-p');
  if (!streamJson) added.push('--output-format', 'stream-json');
  if (!has(before, VERBOSE)) added.push('--verbose');
  if (options.resume !== undefined) added.push('--resume', options.resume);
  if (options.model !== undefined) added.push('--model', options.model);
  if (options.maxTurns !== undefined) added.push('--max-turns', String(options.maxTurns));
  if (options.permissionMode !== undefined) {
    added.push('--permission-mode', options.permissionMode);
  }
  if (options.allowedTools !== undefined) {
    added.push('--allowedTools', options.allowedTools.join(','));
  }
  return [...head, ...before, ...added, ...after];
}

/** The session id a Claude command resumes (`--resume <id>`, `-r <id>`, `--resume=<id>`), or null. */
export function resumedSessionOf(command: readonly string[]): string | null {
  const program = claudeProgramIndex(command);
  if (program === -1) return null;
  const args = command.slice(program + 1);
  let resumed: string | null = null;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') break;
    if (arg === '-r' || arg === '--resume') {
      const next = args[index + 1];
      resumed = isValue(next) ? next : null;
    } else if (arg.startsWith('--resume=')) {
      resumed = arg.slice('--resume='.length) || null;
    }
  }
  return resumed;
}
