import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

import { AgentErrorCode, AgentException } from './agent.exception';

/** How the child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started child, leader of its own process group. */
export interface RunningChild {
  readonly pid: number;
  /** Resolves once when the child has exited. */
  readonly exited: Promise<ChildExit>;
  /** Sends `signal` to the child's whole process group; a no-op once the child has exited. */
  signalGroup(signal: 'SIGTERM' | 'SIGKILL'): void;
}

/** Starts the agent's child; injected so unit tests use a fake one. */
export interface ChildLauncher {
  /** @throws AgentException `SpawnFailed` when the command cannot be started. */
  launch(command: readonly string[]): Promise<RunningChild>;
}

export interface NodeChildLauncherOptions {
  /** The child's working directory (the project path). */
  readonly cwd: string;
  /** The child's environment, already without the runner token. */
  readonly env: NodeJS.ProcessEnv;
  /** Appended with the child's stdout and stderr. */
  readonly logFile: string;
}

/**
 * Spawns the command detached, in its own process group, so that a signal reaches every process
 * it started. The child writes straight into the log file (opened for append), so its output
 * costs the agent nothing and survives an agent crash.
 */
export class NodeChildLauncher implements ChildLauncher {
  constructor(private readonly options: NodeChildLauncherOptions) {}

  async launch(command: readonly string[]): Promise<RunningChild> {
    const [file, ...args] = command;
    if (file === undefined) throw new AgentException(AgentErrorCode.SpawnFailed, 'empty command');
    await mkdir(dirname(this.options.logFile), { recursive: true });
    const log = await open(this.options.logFile, 'a');
    try {
      const child = spawn(file, args, {
        cwd: this.options.cwd,
        env: this.options.env,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
      });
      let hasExited = false;
      const exited = new Promise<ChildExit>((resolve) => {
        child.once('exit', (code, signal) => {
          hasExited = true;
          resolve({ code, signal });
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      }).catch((error: unknown) => {
        throw new AgentException(
          AgentErrorCode.SpawnFailed,
          `could not start ${file}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      });
      const pid = child.pid as number;
      return {
        pid,
        exited,
        signalGroup: (signal) => {
          if (hasExited) return;
          try {
            process.kill(-pid, signal);
          } catch (error) {
            // ESRCH: the group is already gone; nothing left to signal.
            if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
          }
        },
      };
    } finally {
      // The child holds its own copy of the descriptor.
      await log.close();
    }
  }
}

/** The child's environment: the agent's own, minus the runner token. */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { STRATAVORE_RUNNER_TOKEN: _token, ...rest } = env;
  return rest;
}
