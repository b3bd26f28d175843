import { AgentErrorCode, AgentException } from './agent.exception';
import { parseDurationMs } from './duration';

/** What the command line asks of the agent. */
export interface AgentArgs {
  /** Pause between heartbeats until heartbeat-ingest answers another interval. */
  readonly intervalMs: number;
  /** Grace between SIGTERM and SIGKILL to the child's process group. */
  readonly stopTimeoutMs: number;
  /** How long the final report is retried before the agent gives up and exits. */
  readonly finalReportTimeoutMs: number;
  /** The child's argv. */
  readonly command: readonly string[];
}

export type ParsedAgentArgs = { readonly kind: 'help' } | ({ readonly kind: 'run' } & AgentArgs);

export const AGENT_USAGE = `Usage: stratavore-agent [options] -- <command...>

Runs <command> for a Stratavore runner and reports heartbeats for it.

Options:
  --interval <duration>               time between heartbeats (default 10s)
  --stop-timeout <duration>           SIGTERM-to-SIGKILL grace for the child (default 10s)
  --final-report-timeout <duration>   retry the final report this long (default 5m)
  -h, --help                          show this help

Durations: 500ms, 10s, 5m, 1h or a number of milliseconds.
Environment: STRATAVORE_RUNNER_ID, STRATAVORE_RUNNER_TOKEN, STRATAVORE_HEARTBEAT_URL,
STRATAVORE_LOG_DIR (required); STRATAVORE_AGENT_LOG_LEVEL (default info);
STRATAVORE_CLAUDE_PRICING (JSON pricing overrides for Claude runners); STRATAVORE_PROMPT
(written to the command's stdin); STRATAVORE_TRANSCRIPT_URL (default the heartbeat URL),
STRATAVORE_TRANSCRIPT_INTERVAL (default 1m), STRATAVORE_TRANSCRIPT_FINAL_TIMEOUT (default 1m),
STRATAVORE_TRANSCRIPT_UPLOAD (default true).

A \`claude -p ... --output-format stream-json\` command is read for its session id, token usage,
cost and outcome, and its transcripts are uploaded to session-store while it runs and when it
ends; any other command gets heartbeats and resource use only.`;

const DURATION_FLAGS = {
  '--interval': { key: 'intervalMs', defaultMs: 10_000, minMs: 100 },
  '--stop-timeout': { key: 'stopTimeoutMs', defaultMs: 10_000, minMs: 0 },
  '--final-report-timeout': { key: 'finalReportTimeoutMs', defaultMs: 300_000, minMs: 0 },
} as const;
type DurationFlag = keyof typeof DURATION_FLAGS;
type DurationKey = (typeof DURATION_FLAGS)[DurationFlag]['key'];

/**
 * Parses `[options] -- <command...>` (the `--` may be left out when the command does not start
 * with a dash).
 *
 * @throws AgentException `InvalidUsage` naming the offending flag.
 */
export function parseAgentArgs(argv: readonly string[]): ParsedAgentArgs {
  const values: Record<DurationKey, number> = {
    intervalMs: DURATION_FLAGS['--interval'].defaultMs,
    stopTimeoutMs: DURATION_FLAGS['--stop-timeout'].defaultMs,
    finalReportTimeoutMs: DURATION_FLAGS['--final-report-timeout'].defaultMs,
  };
  let index = 0;
  while (index < argv.length) {
    const arg = argv[index] as string;
    if (arg === '--') {
      index++;
      break;
    }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (!arg.startsWith('-')) break;

    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    if (!isDurationFlag(name)) throw usageError(`unknown option ${name}`);
    let raw: string | undefined;
    if (equals !== -1) {
      raw = arg.slice(equals + 1);
      index++;
    } else {
      raw = argv[index + 1];
      index += 2;
    }
    if (raw === undefined || raw === '') throw usageError(`${name} needs a value`);
    values[DURATION_FLAGS[name].key] = parseDuration(name, raw);
  }

  const command = argv.slice(index);
  if (command.length === 0) throw usageError('missing the command to run after --');
  return { kind: 'run', ...values, command };
}

function isDurationFlag(name: string): name is DurationFlag {
  return Object.hasOwn(DURATION_FLAGS, name);
}

function parseDuration(flag: DurationFlag, raw: string): number {
  const parsed = parseDurationMs(raw);
  if (parsed === null) {
    throw usageError(`${flag}: expected a duration such as 500ms, 10s or 5m; given "${raw}"`);
  }
  const { minMs } = DURATION_FLAGS[flag];
  if (parsed < minMs) {
    throw usageError(`${flag}: expected at least ${minMs}ms; given "${raw}"`);
  }
  return parsed;
}

function usageError(message: string): AgentException {
  return new AgentException(AgentErrorCode.InvalidUsage, message);
}
