// What both agent entry points (main.ts, interactive.ts) do before they differ: read the
// arguments and the environment, answer --help and usage or configuration errors with their
// exit codes. Loads the light entry point only (no zod unless the environment needs its check).
import {
  AGENT_USAGE,
  type AgentArgs,
  type AgentConfig,
  AgentErrorCode,
  AgentException,
  isConfigError,
  loadAgentConfig,
  parseAgentArgs,
} from '@stratavore/agent/detached';

const EXIT_USAGE = 2;
const EXIT_CONFIG = 78; // EX_CONFIG

export type AgentStart =
  | { readonly kind: 'exit'; readonly code: number }
  | {
      readonly kind: 'run';
      readonly args: AgentArgs & { readonly kind: 'run' };
      readonly config: AgentConfig;
    };

/** The parsed arguments and configuration, or the exit code when there is nothing to run. */
export function startAgent(argv: readonly string[], env: NodeJS.ProcessEnv): AgentStart {
  let parsed;
  try {
    parsed = parseAgentArgs(argv);
  } catch (error) {
    if (error instanceof AgentException && error.code === AgentErrorCode.InvalidUsage) {
      process.stderr.write(`stratavore-agent: ${error.message}\n\n${AGENT_USAGE}\n`);
      return { kind: 'exit', code: EXIT_USAGE };
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return { kind: 'exit', code: 0 };
  }
  try {
    return { kind: 'run', args: parsed, config: loadAgentConfig(env) };
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`${error.message}\n`);
      return { kind: 'exit', code: EXIT_CONFIG };
    }
    throw error;
  }
}

/** Runs `main` and exits with its code; an unexpected error is printed and exits 1. */
export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `stratavore-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
