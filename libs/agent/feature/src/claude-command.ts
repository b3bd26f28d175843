import { claudeProgramIndex } from '@stratavore/claude-code';

/** What the agent reads from a `claude` command line. */
export interface ClaudeHeadlessCommand {
  /** `--resume`/`-r` or `--continue`/`-c`: the process goes on with an earlier session. */
  readonly resumed: boolean;
  /** The session id given to `--resume`, if one was. */
  readonly resumedFrom: string | null;
}

/**
 * Recognises `claude -p ... --output-format stream-json` (also through `node .../cli.js` or
 * `npx @anthropic-ai/claude-code`): the command whose stdout the agent reads for usage.
 * Anything else returns null and gets heartbeats and resource use only.
 */
export function parseClaudeHeadlessCommand(
  command: readonly string[],
): ClaudeHeadlessCommand | null {
  const program = claudeProgramIndex(command);
  if (program === -1) return null;
  const args = command.slice(program + 1);
  let print = false;
  let streamJson = false;
  let resumed = false;
  let resumedFrom: string | null = null;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const next = args[index + 1];
    if (arg === '--') break;
    if (arg === '-p' || arg === '--print') print = true;
    else if (arg === '--output-format') streamJson = next === 'stream-json';
    else if (arg.startsWith('--output-format=')) streamJson = arg.endsWith('=stream-json');
    else if (arg === '-c' || arg === '--continue') resumed = true;
    else if (arg === '-r' || arg === '--resume') {
      resumed = true;
      if (next !== undefined && !next.startsWith('-')) resumedFrom = next;
    } else if (arg.startsWith('--resume=')) {
      resumed = true;
      resumedFrom = arg.slice('--resume='.length) || null;
    }
  }
  return print && streamJson ? { resumed, resumedFrom } : null;
}
