import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The interactive agent's entry point: `STRATAVORE_AGENT_PATH`, else the one built beside the
 * CLI (`dist/apps/agent/apps/agent/src/interactive.js`, next to `dist/apps/cli/...`). A `.ts`
 * path runs through the CLI's own Node options (`-r @swc-node/register` in development).
 */
export function interactiveAgentPath(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.STRATAVORE_AGENT_PATH;
  if (given !== undefined && given !== '') return resolve(given);
  return join(__dirname, '../../../../../agent/apps/agent/src/interactive.js');
}

/**
 * Where the attached agent writes its own log (`<dir>/<runner-id>.agent.log`): the runners
 * directory of Stratavore's data directory, as the daemon has it (`$STRATAVORE_DATA_DIR`,
 * `/var/lib/stratavore` for root, `$XDG_DATA_HOME/stratavore`, `~/.local/share/stratavore`).
 */
export function attachedAgentLogDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
): string {
  let dataDir: string;
  if (env.STRATAVORE_DATA_DIR) dataDir = resolve(env.STRATAVORE_DATA_DIR);
  else if (uid === 0) dataDir = '/var/lib/stratavore';
  else if (env.XDG_DATA_HOME) dataDir = join(resolve(env.XDG_DATA_HOME), 'stratavore');
  else dataDir = join(homedir(), '.local', 'share', 'stratavore');
  return join(dataDir, 'runners');
}

/** What the attached agent needs. */
export interface AttachedAgentSpec {
  readonly agentPath: string;
  readonly runnerId: string;
  readonly token: string;
  readonly heartbeatUrl: string;
  readonly heartbeatIntervalMs: number;
  readonly logDir: string;
  /** The command, as registered. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Variables of the CLI the agent and its command must not see. */
const CLI_PRIVATE = ['STRATAVORE_API_KEY', 'STRATAVORE_API_URL', 'STRATAVORE_AGENT_PATH'];

/**
 * Runs the attached agent in the foreground and resolves with its exit code (the command's).
 * It inherits the terminal (stdin, stdout, stderr) and the CLI's process group, so the command
 * under it gets the real TTY and the terminal's keys. While it runs the CLI ignores the
 * terminal's SIGINT and SIGQUIT (they are the command's), rides out SIGHUP (the agent reports
 * the end of a command whose terminal closed) and passes SIGTERM on to the agent, which stops
 * the command. The token reaches the agent in its environment only.
 */
export async function runAttachedAgent(spec: AttachedAgentSpec): Promise<number> {
  if (!existsSync(spec.agentPath)) {
    throw new Error(
      `the Stratavore agent is not at ${spec.agentPath}; build it (npx nx build agent) or set STRATAVORE_AGENT_PATH`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...spec.env };
  for (const name of CLI_PRIVATE) delete env[name];
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      spec.agentPath,
      '--interval',
      `${spec.heartbeatIntervalMs}ms`,
      '--',
      ...spec.command,
    ],
    {
      cwd: spec.cwd,
      stdio: 'inherit',
      env: {
        ...env,
        STRATAVORE_RUNNER_ID: spec.runnerId,
        STRATAVORE_RUNNER_TOKEN: spec.token,
        STRATAVORE_HEARTBEAT_URL: spec.heartbeatUrl,
        STRATAVORE_LOG_DIR: spec.logDir,
      },
    },
  );
  const ignore = () => undefined;
  const forward = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  process.on('SIGHUP', ignore);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolvePromise, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code !== null) resolvePromise(code);
        else resolvePromise(128 + ((signal === null ? undefined : constants.signals[signal]) ?? 1));
      });
    });
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
    process.off('SIGHUP', ignore);
    process.off('SIGTERM', forward);
  }
}
