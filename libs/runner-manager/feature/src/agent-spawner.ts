import { type ChildProcess, spawn } from 'node:child_process';
import type * as fsModule from 'node:fs';
import type * as pathModule from 'node:path';

/** One process to start, detached, its stdout and stderr appended to `logFile`. */
export interface SpawnRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The whole environment of the new process (nothing is inherited from the spawner). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Created with its directory when missing, opened for append. */
  readonly logFile: string;
}

/** The helper's answer: the pid, or why the process could not be started. */
type SpawnOutcome =
  | { readonly pid: number }
  | { readonly error: { readonly message: string; readonly code?: string } };

type SpawnerMessage = { readonly id: number } & SpawnOutcome;

interface Pending {
  resolve(pid: number): void;
  reject(error: Error): void;
}

/**
 * Starts processes from a small long-lived helper process instead of from this one. `spawn()`
 * forks: the kernel copies the page tables of the calling process, which takes time in
 * proportion to its memory (about 20 ms from a 360 MB process, 75 ms from 1.1 GB, on the
 * development machine), and the event loop of the caller waits meanwhile, with every request in
 * flight. The helper is a bare Node process of a few tens of MB that only spawns, so its forks
 * are cheap and this process's event loop sends one message instead.
 *
 * The helper is started at the first request and again after it died (pending requests then
 * fail); it exits when this process closes the channel or exits. The processes it starts are
 * detached (their own session), so they outlive it and this process, as a direct `spawn()` with
 * `detached: true` would.
 */
export class AgentSpawner {
  private helper: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Resolves with the pid once the process exists; rejects when it could not be started. */
  spawn(request: SpawnRequest): Promise<number> {
    const helper = this.runningHelper();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keeps this process alive while an answer is due; idle, the helper holds nothing.
      helper.channel?.ref();
      helper.send({ id, ...request }, (error) => {
        if (error !== null) this.settle(id, { error: { message: error.message } });
      });
    });
  }

  /** The helper's pid, once started. */
  get pid(): number | undefined {
    return this.helper?.pid;
  }

  /** Ends the helper; the processes it started keep running. Idempotent. */
  close(): void {
    const helper = this.helper;
    this.helper = undefined;
    if (helper?.connected) helper.disconnect();
  }

  private runningHelper(): ChildProcess {
    if (this.helper?.connected) return this.helper;
    const helper = spawn(process.execPath, ['-e', `(${spawnerMain.toString()})();`], {
      // Only what Node needs to start: the helper never hands its own environment on.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    helper.on('message', (message: SpawnerMessage) => this.settle(message.id, message));
    const lost = (reason: string) => {
      if (this.helper === helper) this.helper = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, { error: { message: reason } });
    };
    helper.once('error', (error) => lost(`the agent spawner failed: ${error.message}`));
    helper.once('exit', (code, signal) =>
      lost(`the agent spawner exited (${signal ?? `code ${String(code)}`})`),
    );
    helper.unref();
    helper.channel?.unref();
    this.helper = helper;
    return helper;
  }

  private settle(id: number, outcome: SpawnOutcome): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.helper?.channel?.unref();
    if ('pid' in outcome) {
      pending.resolve(outcome.pid);
    } else {
      const error = new Error(outcome.error.message) as NodeJS.ErrnoException;
      if (outcome.error.code !== undefined) error.code = outcome.error.code;
      pending.reject(error);
    }
  }
}

/**
 * The helper's program, run from its source text (`node -e`): it may use nothing from this
 * module's scope, only Node's built-in modules.
 */
function spawnerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- no imports in a program run from its text */
  const childProcess = require('node:child_process') as { spawn: typeof spawn };
  const fs = require('node:fs') as typeof fsModule;
  const path = require('node:path') as typeof pathModule;
  /* eslint-enable @typescript-eslint/no-require-imports */

  const reply = (message: unknown) => process.send?.(message);
  const failure = (id: number, error: unknown) => {
    const { message, code } = error as NodeJS.ErrnoException;
    reply({ id, error: { message: String(message), ...(code === undefined ? {} : { code }) } });
  };

  process.on('message', (request: SpawnRequest & { id: number }) => {
    let logFd: number | undefined;
    try {
      fs.mkdirSync(path.dirname(request.logFile), { recursive: true });
      logFd = fs.openSync(request.logFile, 'a');
      const child = childProcess.spawn(request.file, request.args, {
        cwd: request.cwd,
        env: request.env,
        detached: true,
        stdio: ['ignore', logFd, logFd],
      });
      child.once('error', (error) => failure(request.id, error));
      child.once('spawn', () => reply({ id: request.id, pid: child.pid }));
      child.unref();
    } catch (error) {
      failure(request.id, error);
    } finally {
      // The child holds its own copy of the descriptor.
      if (logFd !== undefined) fs.closeSync(logFd);
    }
  });
  // The parent closed the channel or exited: nothing more will come.
  process.on('disconnect', () => process.exit(0));
}
