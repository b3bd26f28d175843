import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { isAbsolute, resolve } from 'node:path';

import { claudeProgramIndex } from '@stratavore/claude-code';
import { z } from 'zod';

import { type AgentLogger } from './agent-logger';

/**
 * The Claude Code hook events the agent listens to (docs/claude-code.md, "Hooks"): the session's
 * start and end (its id and transcript), a prompt submitted or a tool that ran (working again),
 * a notification (waiting for a person) and the end of a turn.
 */
export const AGENT_HOOK_EVENTS = [
  'SessionStart',
  'SessionEnd',
  'UserPromptSubmit',
  'PostToolUse',
  'Notification',
  'Stop',
] as const;
export type AgentHookEvent = (typeof AGENT_HOOK_EVENTS)[number];

/** Seconds Claude Code waits for the agent's answer; the agent answers at once. */
const HOOK_TIMEOUT_SECONDS = 10;
/** A hook's input is a few kilobytes; a tool input can be big (PostToolUse carries it). */
const MAX_HOOK_BODY_BYTES = 4 * 1024 * 1024;

/**
 * What the agent reads of a hook's input (JSON on the request body, as Claude Code sends it to a
 * `type: "http"` hook). Loose: every event has its own fields and versions add more.
 */
export const claudeHookInputSchema = z.looseObject({
  hook_event_name: z.string().min(1),
  session_id: z.string().min(1).optional(),
  transcript_path: z.string().min(1).optional(),
  cwd: z.string().optional(),
  /** SessionStart: `startup`, `resume`, `clear`, `compact`. */
  source: z.string().optional(),
  /** SessionEnd: `clear`, `logout`, `prompt_input_exit`, `other`, ... */
  reason: z.string().optional(),
  /** Notification: `permission_prompt`, `idle_prompt`, `elicitation_dialog`, ... */
  notification_type: z.string().optional(),
  message: z.string().optional(),
  /** Subagents' hooks carry the subagent's id. */
  agent_id: z.string().optional(),
});
export type ClaudeHookInput = z.infer<typeof claudeHookInputSchema>;

/** A word for a POSIX shell: `'...'`, with its own `'` escaped. */
function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Node reading a hook input on stdin and posting it to the URL in its first argument; prints
 * nothing (a SessionStart hook's output would become context for Claude) and always exits 0.
 */
const POST_STDIN_SCRIPT =
  'const u=process.argv[1];let b="";process.stdin.on("data",(c)=>{b+=c}).on("end",()=>{' +
  'const r=require("http").request(u,{method:"POST",headers:{"content-type":"application/json"}},' +
  '(x)=>{x.resume();x.on("end",()=>process.exit(0))});r.on("error",()=>process.exit(0));r.end(b)})';

/**
 * Claude Code settings with one hook per event the agent reads, every matcher, all reaching
 * `url`: an `http` hook, except for SessionStart, where CLI 2.1.112 skips HTTP hooks ("HTTP
 * hooks are not supported for SessionStart"): there a `command` hook runs `nodePath` (the
 * agent's own Node) to post its stdin to the same URL.
 */
export function claudeHookSettings(
  url: string,
  nodePath: string = process.execPath,
): { hooks: Record<AgentHookEvent, unknown[]> } {
  const http = { type: 'http', url, timeout: HOOK_TIMEOUT_SECONDS };
  const command = {
    type: 'command',
    command: `${shellWord(nodePath)} -e ${shellWord(POST_STDIN_SCRIPT)} ${shellWord(url)}`,
    timeout: HOOK_TIMEOUT_SECONDS,
  };
  const hooks = Object.fromEntries(
    AGENT_HOOK_EVENTS.map((event) => [
      event,
      [{ hooks: [event === 'SessionStart' ? { ...command } : { ...http }] }],
    ]),
  ) as Record<AgentHookEvent, unknown[]>;
  return { hooks };
}

/** What {@link withHookSettings} did to a command. */
export type HookedCommand =
  | { readonly kind: 'hooked'; readonly command: readonly string[] }
  | { readonly kind: 'unchanged'; readonly command: readonly string[]; readonly reason: string };

const SETTINGS_FLAG = '--settings';

/**
 * `command` (a Claude Code command line) with the agent's hooks passed through `--settings`:
 * right after the program, so that it comes before any `--` or prompt. A `--settings` the user
 * gave (inline JSON or a file, relative to `cwd`) is kept: the agent's hooks are added to its
 * `hooks`, and the merged settings replace the argument. Claude Code merges `--settings` with the
 * user's, project and local settings files, whose hooks keep running. A `--settings` that cannot
 * be read leaves the command as it is (no hooks), with the reason.
 */
export function withHookSettings(
  command: readonly string[],
  url: string,
  cwd: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): HookedCommand {
  const program = claudeProgramIndex(command);
  if (program === -1) {
    return { kind: 'unchanged', command, reason: 'not a Claude Code command' };
  }
  const ours = claudeHookSettings(url);
  const given = findSettings(command, program);
  if (given === null) {
    return {
      kind: 'hooked',
      command: [
        ...command.slice(0, program + 1),
        SETTINGS_FLAG,
        JSON.stringify(ours),
        ...command.slice(program + 1),
      ],
    };
  }
  let theirs: unknown;
  try {
    const raw = given.value.trimStart().startsWith('{')
      ? given.value
      : readFile(isAbsolute(given.value) ? given.value : resolve(cwd, given.value));
    theirs = JSON.parse(raw);
  } catch (error) {
    return {
      kind: 'unchanged',
      command,
      reason: `cannot read the command's own --settings (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (typeof theirs !== 'object' || theirs === null || Array.isArray(theirs)) {
    return { kind: 'unchanged', command, reason: "the command's own --settings is not an object" };
  }
  const merged = mergeHooks(theirs as Record<string, unknown>, ours.hooks);
  const next = [...command];
  if (given.inline) next[given.index] = `${SETTINGS_FLAG}=${JSON.stringify(merged)}`;
  else next[given.index + 1] = JSON.stringify(merged);
  return { kind: 'hooked', command: next };
}

function findSettings(
  command: readonly string[],
  program: number,
): { index: number; value: string; inline: boolean } | null {
  let found: { index: number; value: string; inline: boolean } | null = null;
  for (let index = program + 1; index < command.length; index++) {
    const arg = command[index] as string;
    if (arg === '--') break;
    if (arg === SETTINGS_FLAG && command[index + 1] !== undefined) {
      found = { index, value: command[index + 1] as string, inline: false };
      index++;
    } else if (arg.startsWith(`${SETTINGS_FLAG}=`)) {
      found = { index, value: arg.slice(SETTINGS_FLAG.length + 1), inline: true };
    }
  }
  return found;
}

function mergeHooks(
  settings: Record<string, unknown>,
  ours: Record<string, unknown[]>,
): Record<string, unknown> {
  const existing =
    typeof settings.hooks === 'object' && settings.hooks !== null && !Array.isArray(settings.hooks)
      ? (settings.hooks as Record<string, unknown>)
      : {};
  const hooks: Record<string, unknown> = { ...existing };
  for (const [event, groups] of Object.entries(ours)) {
    const before = existing[event];
    hooks[event] = [...(Array.isArray(before) ? (before as unknown[]) : []), ...groups];
  }
  return { ...settings, hooks };
}

/**
 * A local HTTP endpoint for Claude Code's `http` hooks: listens on 127.0.0.1 on a free port, at
 * a path with a random part (another local process cannot guess it), hands every valid hook
 * input to `onHook` and answers `{}` at once (no decision: Claude Code carries on as without the
 * hook). A body that is not a hook input is answered 400 and logged; Claude Code then reports a
 * non-blocking hook error and goes on.
 */
export class ClaudeHookListener {
  private server: Server | undefined;
  private hookUrl = '';
  private readonly path = `/hooks/${randomBytes(16).toString('hex')}`;
  private received = 0;

  constructor(
    private readonly onHook: (input: ClaudeHookInput) => void,
    private readonly logger?: AgentLogger,
  ) {}

  /** The URL to put in the hook settings. */
  get url(): string {
    if (this.hookUrl === '') throw new Error('the hook listener is not listening');
    return this.hookUrl;
  }

  /** How many hook calls it accepted. */
  get count(): number {
    return this.received;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.serve(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.hookUrl = `http://127.0.0.1:${port}${this.path}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST' || req.url !== this.path) {
      req.resume();
      answer(res, 404, { error: 'not found' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HOOK_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooBig) {
        answer(res, 413, { error: `hook input above ${MAX_HOOK_BODY_BYTES} bytes` });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        this.logger?.warn({ bytes: size }, 'a Claude Code hook sent a body that is not JSON');
        answer(res, 400, { error: 'expected a JSON hook input' });
        return;
      }
      const parsed = claudeHookInputSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.map(String).join('.') || '(body)';
        this.logger?.warn({ field }, 'a Claude Code hook input lacks what the agent reads');
        answer(res, 400, { error: `${field}: ${issue?.message ?? 'invalid'}` });
        return;
      }
      this.received++;
      try {
        this.onHook(parsed.data);
      } catch (error) {
        this.logger?.error({ err: String(error) }, 'handling a Claude Code hook failed');
      }
      answer(res, 200, {});
    });
    req.on('error', () => answer(res, 400, { error: 'request aborted' }));
  }
}

function answer(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A command with the agent's hooks installed, and the listener to stop when it ended. */
export interface InstalledClaudeHooks {
  readonly command: readonly string[];
  /** Null when the hooks could not be installed (the command runs as given). */
  readonly listener: ClaudeHookListener | null;
}

/**
 * Starts a {@link ClaudeHookListener} feeding `onHook` and puts its hooks into `command`
 * ({@link withHookSettings}). When the command's own settings cannot be read, the listener is
 * stopped, the command runs as given and a warning says why.
 */
export async function installClaudeHooks(
  command: readonly string[],
  cwd: string,
  onHook: (input: ClaudeHookInput) => void,
  logger?: AgentLogger,
): Promise<InstalledClaudeHooks> {
  const listener = new ClaudeHookListener(onHook, logger);
  await listener.start();
  const hooked = withHookSettings(command, listener.url, cwd);
  if (hooked.kind === 'hooked') return { command: hooked.command, listener };
  logger?.warn(
    { reason: hooked.reason },
    'Claude Code hooks not installed: no waiting or idle states',
  );
  await listener.stop();
  return { command, listener: null };
}
