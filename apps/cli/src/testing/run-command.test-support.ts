import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Config, run } from '@oclif/core';

import { loadCliConfig } from '../stratavore-cli';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface RunOptions {
  /** Environment for the run; STRATAVORE_* and NO_COLOR not given here are unset. */
  readonly env?: Readonly<Record<string, string>>;
  /** Pretend stdout is a terminal. */
  readonly tty?: boolean;
}

/** A running command whose output can be read before it ends (for `watch`). */
export interface RunningCommand {
  readonly result: Promise<CommandResult>;
  output(): string;
}

let config: Promise<Config> | undefined;

const CONTROLLED_ENV = [
  'STRATAVORE_API_URL',
  'STRATAVORE_API_KEY',
  'STRATAVORE_CONFIG',
  'STRATAVORE_AGENT_PATH',
  'STRATAVORE_DATA_DIR',
  'STRATAVORE_HEARTBEAT_URL',
  'XDG_CONFIG_HOME',
  'NO_COLOR',
];

/** Starts `stratavore <argv...>` in-process, capturing stdout and stderr. */
export function startCommand(argv: string[], options: RunOptions = {}): RunningCommand {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const savedEnv = Object.fromEntries(CONTROLLED_ENV.map((name) => [name, process.env[name]]));
  for (const name of CONTROLLED_ENV) delete process.env[name];
  Object.assign(process.env, options.env ?? {});
  const savedTty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  if (options.tty)
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });

  const toText = (args: unknown[]) =>
    args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
  const spies = [
    jest
      .spyOn(console, 'log')
      .mockImplementation((...args: unknown[]) => void stdout.push(`${toText(args)}\n`)),
    jest
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void stderr.push(`${toText(args)}\n`)),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    }),
  ];

  const result = (async (): Promise<CommandResult> => {
    let exitCode = 0;
    try {
      config ??= loadCliConfig();
      process.exitCode = undefined;
      await run(argv, await config);
      // With --json, oclif reports a failure through process.exitCode instead of throwing.
      exitCode = Number(process.exitCode ?? 0);
    } catch (error) {
      const oclif = (error as { oclif?: { exit?: number } }).oclif;
      exitCode = oclif?.exit ?? 1;
      stderr.push(`${(error as Error).message}\n`);
    } finally {
      for (const spy of spies) spy.mockRestore();
      if (savedTty) Object.defineProperty(process.stdout, 'isTTY', savedTty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
      for (const name of CONTROLLED_ENV) delete process.env[name];
      for (const [name, value] of Object.entries(savedEnv)) {
        if (value !== undefined) process.env[name] = value;
      }
      // oclif sets process.exitCode on failures; the test runner must not inherit it.
      process.exitCode = undefined;
    }
    return { stdout: stdout.join(''), stderr: stderr.join(''), exitCode };
  })();
  return { result, output: () => stdout.join('') };
}

export function runCommand(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  return startCommand(argv, options).result;
}

/** A fresh directory for a config file; removed by the returned cleanup. */
export async function temporaryConfigDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'stratavore-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `condition` until it holds or the deadline passes. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
