import { spawn } from 'node:child_process';

import { AgentErrorCode, AgentException } from './agent.exception';
import {
  type ChildExit,
  type ChildLauncher,
  type RunningChild,
  signalIfAlive,
  spawned,
} from './child-process';

export interface TerminalChildLauncherOptions {
  /** The child's working directory. */
  readonly cwd: string;
  /** The child's environment, already without the runner token. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Starts the command in the user's terminal (`stratavore run`): it inherits the agent's stdin,
 * stdout and stderr untouched (the real TTY: raw mode, colours, resizing) and stays in the
 * agent's process group, the terminal's foreground group, so the keys that make signals (Ctrl-C,
 * Ctrl-Z, Ctrl-\) reach it as they would without Stratavore. Nothing of its output passes
 * through the agent or reaches a log.
 *
 * Not being a group leader, the child is signalled on its own (`signalGroup` sends to its pid):
 * signalling the group would hit the agent and the CLI too. A program that leaves processes
 * behind when it is terminated leaves them in the user's terminal session, as it would anyway.
 */
export class TerminalChildLauncher implements ChildLauncher {
  constructor(private readonly options: TerminalChildLauncherOptions) {}

  async launch(command: readonly string[]): Promise<RunningChild> {
    const [file, ...args] = command;
    if (file === undefined) throw new AgentException(AgentErrorCode.SpawnFailed, 'empty command');
    const child = spawn(file, args, {
      cwd: this.options.cwd,
      env: this.options.env,
      stdio: 'inherit',
    });
    let hasExited = false;
    const exited = new Promise<ChildExit>((resolve) => {
      child.once('exit', (code, signal) => {
        hasExited = true;
        resolve({ code, signal });
      });
    });
    await spawned(child, file);
    const pid = child.pid as number;
    return {
      pid,
      exited,
      signalGroup: (signal) => {
        if (!hasExited) signalIfAlive(pid, signal);
      },
    };
  }
}
