import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

import { AgentErrorCode, AgentException } from './agent.exception';
import { type AgentLogger } from './agent-logger';
import { type LineSink, LineSplitter } from './line-splitter';

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
  /**
   * Also receives the child's stdout, line by line (the Claude headless adapter). stdout then
   * goes through the agent (a pipe, copied to the log file as it comes); without a sink the child
   * writes straight into the log.
   */
  readonly stdoutLines?: LineSink;
  /**
   * With `stdoutLines`: how long `exited` waits, after the child exited, for its stdout to close,
   * so that the last lines (Claude's `result`) are read before the final report. A grandchild
   * holding stdout open cannot delay the report longer than this. Default 2 s.
   */
  readonly stdoutDrainTimeoutMs?: number;
  /** Where trouble with the copied output is logged. */
  readonly logger?: AgentLogger;
  /**
   * Written to the child's stdin, which is then closed (the runner's prompt: `claude -p` reads
   * it there when the command line has none). Without it stdin is /dev/null.
   */
  readonly stdinText?: string;
}

const DEFAULT_STDOUT_DRAIN_TIMEOUT_MS = 2_000;

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
      const sink = this.options.stdoutLines;
      const child = spawn(file, args, {
        cwd: this.options.cwd,
        env: this.options.env,
        detached: true,
        stdio: [
          this.options.stdinText === undefined ? 'ignore' : 'pipe',
          sink === undefined ? log.fd : 'pipe',
          log.fd,
        ],
      });
      this.writeStdin(child);
      const stdoutClosed = sink === undefined ? Promise.resolve() : this.teeStdout(child, sink);
      let hasExited = false;
      const exited = new Promise<ChildExit>((resolve) => {
        child.once('exit', (code, signal) => {
          hasExited = true;
          void this.drained(stdoutClosed, sink).then(() => resolve({ code, signal }));
        });
      });
      await spawned(child, file);
      const pid = child.pid as number;
      return {
        pid,
        exited,
        signalGroup: (signal) => {
          if (!hasExited) signalIfAlive(-pid, signal);
        },
      };
    } finally {
      // The child holds its own copy of the descriptor.
      await log.close();
    }
  }

  /**
   * Copies the child's stdout to the log file and cuts it into lines for `sink`. Resolves when
   * stdout closed and the sink has every line.
   */
  private teeStdout(child: ChildProcess, sink: LineSink): Promise<void> {
    const stdout = child.stdout;
    if (stdout === null) {
      sink.end();
      return Promise.resolve();
    }
    const logger = this.options.logger;
    const copy = createWriteStream(this.options.logFile, { flags: 'a' });
    copy.on('error', (error) => {
      // The log is lost from here on; the accounting goes on.
      logger?.error({ err: error.message, logFile: this.options.logFile }, 'cannot write the log');
      stdout.unpipe(copy);
    });
    const splitter = new LineSplitter(sink);
    stdout.pipe(copy);
    stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    return new Promise<void>((resolve) => {
      stdout.once('close', () => {
        splitter.end();
        resolve();
      });
    });
  }

  /** Writes `stdinText` and closes stdin; a child that exits without reading it is no error. */
  private writeStdin(child: ChildProcess): void {
    const text = this.options.stdinText;
    const stdin = child.stdin;
    if (text === undefined || stdin === null) return;
    stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      this.options.logger?.warn(
        { err: error.message },
        "cannot write the prompt to the child's stdin",
      );
    });
    stdin.end(text);
  }

  /** Waits for stdout to close, at most the drain timeout; then the sink is ended anyway. */
  private async drained(stdoutClosed: Promise<void>, sink: LineSink | undefined): Promise<void> {
    if (sink === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(
        () => resolve('timeout'),
        this.options.stdoutDrainTimeoutMs ?? DEFAULT_STDOUT_DRAIN_TIMEOUT_MS,
      );
    });
    const outcome = await Promise.race([stdoutClosed.then(() => 'closed' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.options.logger?.warn(
        { drainTimeoutMs: this.options.stdoutDrainTimeoutMs ?? DEFAULT_STDOUT_DRAIN_TIMEOUT_MS },
        'the child exited but its stdout is still open (a process it started holds it); reporting without waiting for it',
      );
      sink.end();
    }
  }
}

/** Resolves once `child` has started; a failed start is SpawnFailed naming `file`. */
export async function spawned(child: ChildProcess, file: string): Promise<void> {
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
}

/**
 * Sends `signal` to `target` (a pid, or minus a process group id); a target already gone
 * (ESRCH) leaves nothing to signal and is not an error.
 */
export function signalIfAlive(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The child's environment: the agent's own, minus the runner token and the prompt. */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { STRATAVORE_RUNNER_TOKEN: _token, STRATAVORE_PROMPT: _prompt, ...rest } = env;
  return rest;
}
