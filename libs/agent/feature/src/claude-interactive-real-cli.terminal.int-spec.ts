import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { type HeartbeatRequest } from '@stratavore/contracts';
import {
  bashCallTurns,
  claudeCliEnv,
  claudeCodeCliPath,
  type ClaudeSandbox,
  ClaudeStandIn,
  createClaudeSandbox,
  type ServedResponse,
  sumStandInUsage,
  waitFor,
} from '@stratavore/testing';

import { startRecordingIngest } from './agent-fakes.test-support';

// The interactive agent (`stratavore run`'s) around the real Claude Code CLI 2.1.112 in a real
// terminal (tmux), against the stand-in Messages API: the hooks make the heartbeats say idle
// (the prompt box waits), working (a prompt), waiting (the permission prompt for the scripted
// Bash call), working (approved, the tool ran), idle (the turn finished); the transcript gives
// exactly the served tokens and the session id the command line fixed.
const MODEL = 'claude-sonnet-4-5';
const WORKSPACE = join(__dirname, '../../../..');
const STEP_MS = 90_000;
const run = promisify(execFile);

function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

describe('the interactive agent around the real Claude Code CLI in a terminal', () => {
  let standIn: ClaudeStandIn;
  let sandbox: ClaudeSandbox;
  let dir: string;
  const socket = `stratavore-${randomUUID().slice(0, 8)}`;
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);

  beforeAll(async () => {
    await run('tmux', ['-V']).catch((error: unknown) => {
      throw new Error(
        `this suite drives the real CLI in a terminal made by tmux; install tmux (apt-get install tmux): ${String(error)}`,
      );
    });
  });

  beforeEach(async () => {
    standIn = await ClaudeStandIn.start({ model: MODEL });
    sandbox = await createClaudeSandbox();
    dir = await mkdtemp(join(tmpdir(), 'stratavore-interactive-'));
  });

  afterEach(async () => {
    await tmux('kill-server').catch(() => undefined);
    await standIn.close();
    await sandbox.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports idle, working, waiting and idle from the hooks, and the served tokens', async () => {
    standIn.addTurns(...bashCallTurns());
    const env = claudeCliEnv({ standIn, sandbox });
    // A user who set Claude Code up already: onboarding done, this folder trusted, the key
    // approved (the CLI's global config, `$CLAUDE_CONFIG_DIR/.claude.json`).
    await mkdir(sandbox.configDir, { recursive: true });
    await writeFile(
      join(sandbox.configDir, '.claude.json'),
      JSON.stringify({
        hasCompletedOnboarding: true,
        theme: 'dark',
        customApiKeyResponses: {
          approved: [(env.ANTHROPIC_API_KEY ?? '').slice(-20)],
          rejected: [],
        },
        projects: {
          [sandbox.cwd]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true },
        },
      }),
    );
    const ingest = await startRecordingIngest(500);
    const sessionId = randomUUID();
    const runnerId = randomUUID();
    const agentEnv: Record<string, string> = {
      ...env,
      STRATAVORE_RUNNER_ID: runnerId,
      STRATAVORE_RUNNER_TOKEN: 'token',
      STRATAVORE_HEARTBEAT_URL: ingest.url,
      STRATAVORE_LOG_DIR: dir,
      STRATAVORE_TRANSCRIPT_UPLOAD: 'false',
      SWC_NODE_PROJECT: join(WORKSPACE, 'tsconfig.base.json'),
      TERM: 'xterm-256color',
    };
    const script = join(dir, 'run.sh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `cd ${shellWord(sandbox.cwd)}`,
        `exec env -i ${Object.entries(agentEnv)
          .map(([name, value]) => shellWord(`${name}=${value}`))
          .join(' ')} ${[
          process.execPath,
          '-r',
          require.resolve('@swc-node/register'),
          join(WORKSPACE, 'apps/agent/src/interactive.ts'),
          '--interval',
          '500ms',
          '--',
          process.execPath,
          claudeCodeCliPath(),
          '--session-id',
          sessionId,
          '--model',
          MODEL,
        ]
          .map(shellWord)
          .join(' ')}`,
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
    await tmux('new-session', '-d', '-s', 'run', '-x', '160', '-y', '45', script);

    const screen = async () =>
      (await tmux('capture-pane', '-p', '-t', 'run').catch(() => ({ stdout: '(gone)' }))).stdout;
    const agentLog = () => {
      const file = join(dir, `${runnerId}.agent.log`);
      return existsSync(file) ? readFileSync(file, 'utf8') : '(no agent log)';
    };
    const activityOf = (body: HeartbeatRequest | undefined) => body?.session?.activity;
    const until = async (
      what: string,
      probe: (body: HeartbeatRequest | undefined) => boolean,
    ): Promise<void> => {
      try {
        await waitFor(() => probe(ingest.bodies.at(-1)), {
          timeoutMs: STEP_MS,
          intervalMs: 100,
          description: what,
        });
      } catch (error) {
        throw new Error(
          `${(error as Error).message}\nscreen:\n${await screen()}\nagent log:\n${agentLog()}`,
        );
      }
    };

    try {
      await until('idle after SessionStart', (b) => activityOf(b)?.state === 'idle');
      expect(ingest.bodies.at(-1)?.sessionId).toBe(sessionId);

      await tmux('send-keys', '-t', 'run', '-l', 'Write hello to out.txt');
      await tmux('send-keys', '-t', 'run', 'Enter');
      await until('working after the prompt', (b) => activityOf(b)?.state === 'working');
      // The permission prompt for the Bash call: Claude Code notifies after 6 s untouched.
      await until('waiting for permission', (b) => activityOf(b)?.state === 'waiting');
      expect(activityOf(ingest.bodies.at(-1))).toMatchObject({ reason: 'permission_prompt' });
      await tmux('send-keys', '-t', 'run', 'Enter');
      await until('idle after the turn', (b) => activityOf(b)?.reason === 'Stop');
      expect(readFileSync(join(sandbox.cwd, 'out.txt'), 'utf8')).toBe('hello\n');

      await tmux('send-keys', '-t', 'run', '-l', '/exit');
      await tmux('send-keys', '-t', 'run', 'Enter');
      await until('the final report', (b) => b?.status === 'exited');
      const final = ingest.bodies.at(-1);
      const served: ServedResponse[] = standIn.served.filter((r) => r.kind === 'script');
      const total = sumStandInUsage(served.map((response) => response.usage));
      expect(final).toMatchObject({
        sessionId,
        exit: { code: 0, signal: null },
        counters: {
          inputTokens: total.input_tokens,
          outputTokens: total.output_tokens,
          cacheCreationTokens: total.cache_creation_input_tokens,
          cacheReadTokens: total.cache_read_input_tokens,
        },
      });
      expect(final?.session).toMatchObject({ sessionId, turns: 2, result: null });
      expect(standIn.unexpectedRequests()).toEqual([]);
      // Every state change went out once, as it happened (the agent did not wait for the
      // interval to report it).
      const states = ingest.bodies
        .map((body) => activityOf(body))
        .filter((activity) => activity !== undefined)
        .map((activity) => `${activity.state}:${activity.reason}`)
        .filter((state, index, all) => index === 0 || all[index - 1] !== state);
      expect(states).toEqual([
        'idle:SessionStart',
        'working:UserPromptSubmit',
        'waiting:permission_prompt',
        'working:PostToolUse',
        'idle:Stop',
      ]);
    } finally {
      await ingest.stop();
    }
  }, 300_000);
});
