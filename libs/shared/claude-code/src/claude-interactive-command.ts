import { claudeProgramIndex } from './claude-command-line';

/** Which session an interactive `claude` command line works in. */
export interface ClaudeSessionChoice {
  /** The session id the process will use, when the command line fixes it; else null. */
  readonly sessionId: string | null;
  /** `--resume <id>`: the session it continues (with `--fork-session`, under a new id). */
  readonly resumedFrom: string | null;
  /** `--resume`, `--continue` or `--fork-session` without an id known up front. */
  readonly picksSession: boolean;
  /** `-p` / `--print`: a headless run, not an interactive session. */
  readonly print: boolean;
}

const isValue = (arg: string | undefined): arg is string =>
  arg !== undefined && !arg.startsWith('-');

/**
 * Reads the session options of a Claude Code command line (`--session-id`, `--resume` / `-r`,
 * `--continue` / `-c`, `--fork-session`, `-p`); null for a command that is not Claude Code.
 * Options after `--` are not options.
 */
export function claudeSessionChoice(command: readonly string[]): ClaudeSessionChoice | null {
  const program = claudeProgramIndex(command);
  if (program === -1) return null;
  let sessionId: string | null = null;
  let resumedFrom: string | null = null;
  let resumed = false;
  let fork = false;
  let cont = false;
  let print = false;
  const args = command.slice(program + 1);
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const next = args[index + 1];
    if (arg === '--') break;
    if (arg === '--session-id' && isValue(next)) {
      sessionId = next;
      index++;
    } else if (arg.startsWith('--session-id=')) {
      sessionId = arg.slice('--session-id='.length) || null;
    } else if (arg === '-r' || arg === '--resume') {
      resumed = true;
      if (isValue(next)) {
        resumedFrom = next;
        index++;
      }
    } else if (arg.startsWith('--resume=')) {
      resumed = true;
      resumedFrom = arg.slice('--resume='.length) || null;
    } else if (arg === '-c' || arg === '--continue') cont = true;
    else if (arg === '--fork-session') fork = true;
    else if (arg === '-p' || arg === '--print') print = true;
  }
  const known = sessionId ?? (resumedFrom !== null && !fork ? resumedFrom : null);
  return {
    sessionId: known,
    resumedFrom,
    picksSession: known === null && (resumed || cont || fork),
    print,
  };
}

/**
 * `command` with `--session-id <id>` right after the program, so that the session (and its
 * transcript file, `projects/<encoded cwd>/<id>.jsonl`) is known before Claude Code starts.
 * Unchanged when the command is not Claude Code, or already picks its session (`--session-id`,
 * `--resume`, `--continue`, `--fork-session`).
 */
export function withClaudeSessionId(
  command: readonly string[],
  sessionId: string,
): readonly string[] {
  const choice = claudeSessionChoice(command);
  if (choice === null || choice.sessionId !== null || choice.picksSession) return command;
  const program = claudeProgramIndex(command);
  return [
    ...command.slice(0, program + 1),
    '--session-id',
    sessionId,
    ...command.slice(program + 1),
  ];
}
