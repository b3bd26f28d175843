import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ClaudeStandIn } from './claude-stand-in';

/** The real CLI's entry point in node_modules (`@anthropic-ai/claude-code`, a devDependency). */
export function claudeCodeCliPath(): string {
  return require.resolve('@anthropic-ai/claude-code/cli.js');
}

/** Version of the installed `@anthropic-ai/claude-code`. */
export function claudeCodeCliVersion(): string {
  const manifest = JSON.parse(
    readFileSync(require.resolve('@anthropic-ai/claude-code/package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/** Throwaway directories for one CLI run: never the user's own `~/.claude`. */
export interface ClaudeSandbox {
  readonly root: string;
  /** `HOME` of the CLI. */
  readonly home: string;
  /** `CLAUDE_CONFIG_DIR`: transcripts land under `<configDir>/projects/`. */
  readonly configDir: string;
  /** Working directory of the session (a real path, as the CLI records it). */
  readonly cwd: string;
  /** `TMPDIR` of the CLI. */
  readonly tmp: string;
  remove(): Promise<void>;
}

/** Makes a {@link ClaudeSandbox} under the system temp directory. */
export async function createClaudeSandbox(): Promise<ClaudeSandbox> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'stratavore-claude-')));
  const sandbox = {
    root,
    home: join(root, 'home'),
    configDir: join(root, 'home', '.claude'),
    cwd: join(root, 'work'),
    tmp: join(root, 'tmp'),
    remove: () => rm(root, { recursive: true, force: true }),
  };
  await Promise.all([sandbox.home, sandbox.cwd, sandbox.tmp].map((dir) => mkdir(dir)));
  return sandbox;
}

export interface ClaudeCliEnvOptions {
  readonly standIn: ClaudeStandIn;
  readonly sandbox: Pick<ClaudeSandbox, 'home' | 'configDir' | 'tmp'>;
  /**
   * Leave the CLI's non-essential traffic on (it then also asks the small fast model for a
   * session title). Default: off, through `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`.
   */
  readonly nonessentialTraffic?: boolean;
  /**
   * Let `--permission-mode bypassPermissions` run as root (`IS_SANDBOX=1`); without it the CLI
   * exits with "--dangerously-skip-permissions cannot be used with root/sudo privileges".
   */
  readonly bypassPermissionsAsRoot?: boolean;
}

/**
 * The whole environment for a CLI run against `standIn`: built from scratch (only `PATH` is
 * taken over), so nothing of the caller's own Claude setup (API key, config dir, entry point
 * variables of a surrounding Claude session) leaks in. The stand-in is both the API
 * (`ANTHROPIC_BASE_URL`) and the proxy for every other host, so the CLI's calls elsewhere are
 * recorded and refused instead of leaving the machine.
 */
export function claudeCliEnv(options: ClaudeCliEnvOptions): Record<string, string> {
  const { standIn, sandbox } = options;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: sandbox.home,
    CLAUDE_CONFIG_DIR: sandbox.configDir,
    TMPDIR: sandbox.tmp,
    CLAUDE_CODE_TMPDIR: sandbox.tmp,
    TZ: 'UTC',
    ANTHROPIC_BASE_URL: standIn.url,
    ANTHROPIC_API_KEY: 'sk-ant-stand-in-not-a-key',
    HTTPS_PROXY: standIn.url,
    HTTP_PROXY: standIn.url,
    NO_PROXY: '127.0.0.1,localhost',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
  };
  if (options.nonessentialTraffic !== true) env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  if (options.bypassPermissionsAsRoot === true) env.IS_SANDBOX = '1';
  return env;
}

/** What one CLI run printed. */
export interface ClaudeCliRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the run was killed for taking longer than its `timeoutMs`. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Every stdout line that is a JSON object (the `--output-format stream-json` events). */
  readonly events: readonly Record<string, unknown>[];
}

export interface RunClaudeCliOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Kill the CLI after this long. Default 60 s. */
  readonly timeoutMs?: number;
}

/** Runs the real CLI (`node cli.js ...args`) with stdin closed and collects its output. */
export async function runClaudeCli(
  args: readonly string[],
  options: RunClaudeCliOptions,
): Promise<ClaudeCliRun> {
  const child = spawn(process.execPath, [claudeCodeCliPath(), ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  const { exitCode, signal } = await new Promise<{
    exitCode: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, closeSignal) => resolve({ exitCode: code, signal: closeSignal }));
  }).finally(() => clearTimeout(timer));
  const out = Buffer.concat(stdout).toString('utf8');
  return {
    exitCode,
    signal,
    timedOut,
    stdout: out,
    stderr: Buffer.concat(stderr).toString('utf8'),
    events: parseJsonLines(out),
  };
}

/** Longest encoded project directory name before the CLI shortens it with a hash. */
const MAX_PROJECT_DIR_NAME = 200;

/**
 * Name of the directory under `<configDir>/projects/` where the CLI keeps the transcripts of
 * sessions run in `cwd`: every character other than an ASCII letter or digit becomes `-`
 * (`/tmp/a.b/work` -> `-tmp-a-b-work`); a name longer than 200 characters is cut to 200 and
 * followed by `-` and a base-36 hash of `cwd` (as Claude Code 2.1 does).
 */
export function claudeProjectDirName(cwd: string): string {
  const encoded = cwd.replace(/[^a-zA-Z0-9]/g, '-');
  if (encoded.length <= MAX_PROJECT_DIR_NAME) return encoded;
  let hash = 0;
  for (let i = 0; i < cwd.length; i++) hash = ((hash << 5) - hash + cwd.charCodeAt(i)) | 0;
  return `${encoded.slice(0, MAX_PROJECT_DIR_NAME)}-${Math.abs(hash).toString(36)}`;
}

/** Path of a session's transcript: `<configDir>/projects/<encoded cwd>/<sessionId>.jsonl`. */
export function claudeTranscriptPath(configDir: string, cwd: string, sessionId: string): string {
  return join(configDir, 'projects', claudeProjectDirName(cwd), `${sessionId}.jsonl`);
}

/** Reads a JSON-lines file (a transcript) into its objects; other lines are skipped. */
export async function readJsonLinesFile(path: string): Promise<Record<string, unknown>[]> {
  return parseJsonLines(await readFile(path, 'utf8'));
}

function parseJsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      const value = JSON.parse(line) as unknown;
      return isRecord(value) ? [value] : [];
    } catch {
      return [];
    }
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
