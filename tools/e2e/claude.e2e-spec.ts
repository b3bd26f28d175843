// Claude Code end to end: the real Claude Code CLI (`@anthropic-ai/claude-code`, the pinned
// devDependency) is the agent's child, launched by the single-node daemon through the CLI, and
// talks to the Messages API stand-in of @stratavore/testing (streamed server-sent events, a Bash
// tool call the CLI really executes). What Stratavore reports for the runner and its session
// must be exactly what the stand-in served: the session id the CLI chose, every token by kind,
// the turns, the transcript byte for byte; `stratavore resume` must continue the same session;
// two runners with --worktree must each change only their own tree.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  bashCallTurns,
  claudeCliEnv,
  claudeCodeCliPath,
  type ClaudeSandbox,
  ClaudeStandIn,
  claudeTranscriptPath,
  createClaudeSandbox,
  type ServedResponse,
  sumStandInUsage,
} from '@stratavore/testing';

import { buildApps, eventually, type RunnerView, Sandbox } from './support/e2e-harness';
import { expectOk, printTimings, STATE_TIMEOUT_MS, timed } from './support/runner-scenario';

const BUILD_TIMEOUT_MS = 900_000;
/** The CLI costs a few seconds of CPU to start; far more on a loaded machine. */
const CLAUDE_RUN_TIMEOUT_MS = 180_000;
const MODEL = 'claude-sonnet-4-5';
const PROJECT = 'claude-e2e';

interface SessionJson {
  readonly id: string;
  readonly runnerId: string;
  readonly runnerIds: readonly string[];
  readonly project: string;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly reportedCostUsd: number | null;
  readonly cwd: string | null;
  readonly resumedFrom: string | null;
  readonly tokens: {
    readonly input: number;
    readonly output: number;
    readonly cacheCreation: number;
    readonly cacheRead: number;
  };
  readonly result: { readonly subtype: string; readonly isError: boolean } | null;
}

/** The session tokens Stratavore must report for these served responses. */
function tokensOf(served: readonly ServedResponse[]) {
  const total = sumStandInUsage(served.map((response) => response.usage));
  return {
    input: total.input_tokens,
    output: total.output_tokens,
    cacheCreation: total.cache_creation_input_tokens,
    cacheRead: total.cache_read_input_tokens,
  };
}

beforeAll(async () => {
  const started = Date.now();
  await buildApps(BUILD_TIMEOUT_MS);
  timed('claude: build (nx, cached when unchanged)', started);
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(() => {
  printTimings();
});

describe('the real Claude Code CLI as the agent of the single-node daemon', () => {
  const sandbox = new Sandbox();
  let standIn: ClaudeStandIn;
  let claude: ClaudeSandbox;
  let first: RunnerView | undefined;
  let sessionId: string | undefined;

  const sessions = async (): Promise<SessionJson[]> => {
    const result = await sandbox.cli(['sessions', '--project', PROJECT, '--json']);
    expectOk(result);
    return JSON.parse(result.stdout) as SessionJson[];
  };

  /** Waits for the runner to end and for its session to carry the run's result. */
  const finished = async (runnerId: string): Promise<RunnerView> =>
    eventually(
      `runner ${runnerId} ends and its session records the result`,
      async () => {
        const runner = await sandbox.runner(runnerId);
        if (!['completed', 'failed', 'stopped'].includes(runner.state)) return undefined;
        const session = (await sessions()).find((s) => s.runnerIds.includes(runnerId));
        return session?.result ? runner : undefined;
      },
      { timeoutMs: CLAUDE_RUN_TIMEOUT_MS },
    );

  beforeAll(async () => {
    standIn = await ClaudeStandIn.start({ model: MODEL });
    claude = await createClaudeSandbox();
    // A git repository, as real projects are.
    const git = (...args: string[]) => execFileSync('git', args, { cwd: claude.cwd });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(claude.cwd, 'README.md'), '# claude e2e\n');
    git('add', 'README.md');
    git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-q', '-m', 'init');

    const started = Date.now();
    await sandbox.startDaemon({ HEARTBEAT_INTERVAL: '1s', STALE_CHECK_INTERVAL: '500ms' });
    timed('claude: daemon first start', started);
  }, 240_000);

  afterAll(async () => {
    await sandbox.cleanup();
    await standIn?.close();
    await claude?.remove();
  }, 120_000);

  it('1. creates a Claude Code project whose runners talk to the stand-in', async () => {
    const env = claudeCliEnv({ standIn, sandbox: claude });
    const result = await sandbox.cli([
      'new',
      PROJECT,
      '--path',
      claude.cwd,
      '--max-runners',
      '2',
      '--command',
      `${process.execPath} ${claudeCodeCliPath()} --model ${MODEL}`,
      ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    ]);
    expectOk(result);
  });

  it('2. a headless launch runs the CLI, which calls a tool and answers', async () => {
    standIn.addTurns(...bashCallTurns({ preface: 'I will write the file.' }));
    const started = Date.now();
    const launched = await sandbox.cli([
      'launch',
      PROJECT,
      '--prompt',
      'Write hello to out.txt',
      '--allowed-tools',
      'Bash',
      '--json',
    ]);
    expectOk(launched);
    first = JSON.parse(launched.stdout) as RunnerView;
    sandbox.track([first]);
    const ended = await finished(first.id);
    timed('claude: launch -> runner ended with its session result', started);
    expect(ended).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(readFileSync(join(claude.cwd, 'out.txt'), 'utf8')).toBe('hello\n');
    expect(standIn.unexpectedRequests()).toEqual([]);
    expect(standIn.remainingTurns()).toBe(0);
  });

  it('3. reports the session the CLI chose, with exactly the tokens served and its turns', async () => {
    const runner = await sandbox.runner(first?.id ?? 'no runner');
    const served = [...standIn.served];
    sessionId = served[0]?.sessionId ?? undefined;
    expect(sessionId).toEqual(expect.any(String));
    expect(served.every((response) => response.sessionId === sessionId)).toBe(true);

    const [session, ...others] = await sessions();
    expect(others).toEqual([]);
    expect(session).toMatchObject({
      id: sessionId,
      runnerId: runner.id,
      runnerIds: [runner.id],
      project: PROJECT,
      turns: 2,
      cwd: claude.cwd,
      resumedFrom: null,
      tokens: tokensOf(served),
      result: { subtype: 'success', isError: false },
    });
    // Stratavore's price list and the CLI's own total_cost_usd agree on the same tokens.
    expect(session?.costUsd).toEqual(expect.any(Number));
    expect(session?.costUsd).toBeCloseTo(session?.reportedCostUsd ?? -1, 6);
    // The CLI wrote the transcript under its config dir, where the agent read it.
    expect(existsSync(claudeTranscriptPath(claude.configDir, claude.cwd, sessionId ?? ''))).toBe(
      true,
    );

    const show = await sandbox.cli(['sessions', 'show', sessionId ?? '', '--json']);
    expectOk(show);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: sessionId, turns: 2 });
  });

  it('4. keeps the transcript the CLI wrote, byte for byte, and serves it back', async () => {
    const id = sessionId ?? 'unknown session';
    const file = readFileSync(claudeTranscriptPath(claude.configDir, claude.cwd, id));
    const sha256 = createHash('sha256').update(file).digest('hex');
    // The agent uploads it when the CLI exits, beside its final report.
    const stored = await eventually(
      'session-store holds the final transcript',
      async () => {
        const show = await sandbox.cli(['sessions', 'show', id, '--json']);
        expectOk(show);
        const detail = JSON.parse(show.stdout) as {
          transcripts: { kind: string; sha256: string; size: number; lineCount: number }[];
        };
        const main = detail.transcripts.find((t) => t.kind === 'main');
        return main?.sha256 === sha256 ? main : undefined;
      },
      { timeoutMs: STATE_TIMEOUT_MS },
    );
    expect(stored).toMatchObject({
      size: file.length,
      lineCount: file
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '').length,
    });
    const printed = await sandbox.cli(['sessions', 'transcript', id]);
    expectOk(printed);
    expect(printed.stdout).toBe(file.toString('utf8'));
  });

  it('5. `resume` continues the same session in a new runner', async () => {
    const id = sessionId ?? 'unknown session';
    standIn.addTurns({ content: [{ type: 'text', text: 'Still here.' }] });
    const before = standIn.served.length;
    const started = Date.now();
    const result = await sandbox.cli(['resume', id, '--prompt', 'Are you still there?', '--json']);
    expectOk(result);
    const runner = JSON.parse(result.stdout) as RunnerView;
    sandbox.track([runner]);
    expect(runner.id).not.toBe(first?.id);
    const ended = await finished(runner.id);
    timed('claude: resume -> runner ended', started);
    expect(ended).toMatchObject({ state: 'completed', exitCode: 0 });

    const resumedServed = standIn.served.slice(before);
    expect(resumedServed.length).toBeGreaterThan(0);
    expect(resumedServed.every((response) => response.sessionId === id)).toBe(true);

    const [session, ...others] = await sessions();
    expect(others).toEqual([]);
    expect(session).toMatchObject({
      id,
      runnerIds: [first?.id, runner.id],
      tokens: tokensOf(standIn.served),
      result: { subtype: 'success', isError: false },
    });
    await eventually(
      'the resumed runner shows in `runners --json`',
      async () => (await sandbox.runners(PROJECT)).some((r) => r.id === runner.id),
      { timeoutMs: STATE_TIMEOUT_MS },
    );
  });

  it("6. two runners with --worktree each change their own tree, never the other's", async () => {
    const trees: { runner: RunnerView; path: string; file: string }[] = [];
    // One after the other: the stand-in serves one script, in order, to whoever asks.
    for (const file of ['left.txt', 'right.txt']) {
      standIn.addTurns(
        ...bashCallTurns({
          command: `echo ${file} > ${file}`,
          description: `Write ${file}`,
          reply: `Wrote ${file}.`,
        }),
      );
      const launched = await sandbox.cli([
        'launch',
        PROJECT,
        '--worktree',
        '--prompt',
        `Write ${file}`,
        '--allowed-tools',
        'Bash',
        '--json',
      ]);
      expectOk(launched);
      const runner = JSON.parse(launched.stdout) as RunnerView & {
        worktree: { path: string; branch: string } | null;
      };
      sandbox.track([runner]);
      const ended = (await finished(runner.id)) as RunnerView & {
        worktree: { path: string; branch: string } | null;
      };
      expect(ended).toMatchObject({
        state: 'completed',
        exitCode: 0,
        worktree: { branch: `stratavore/${runner.id}` },
      });
      trees.push({ runner: ended, path: ended.worktree?.path ?? '', file });
    }
    const [left, right] = trees;
    expect(left?.path).not.toBe(right?.path);
    for (const tree of trees) {
      const other = tree === left ? right : left;
      expect(readFileSync(join(tree.path, tree.file), 'utf8')).toBe(`${tree.file}\n`);
      expect(existsSync(join(tree.path, other?.file ?? ''))).toBe(false);
      expect(existsSync(join(claude.cwd, tree.file))).toBe(false);
    }
    const listed = await sandbox.cli(['worktrees', '--project', PROJECT, '--json']);
    expectOk(listed);
    expect(
      (JSON.parse(listed.stdout) as { runnerId: string }[]).map((w) => w.runnerId).sort(),
    ).toEqual(trees.map((t) => t.runner.id).sort());
    // Each run is a session of its own, in its worktree.
    const byRunner = new Map((await sessions()).map((s) => [s.runnerId, s]));
    for (const tree of trees) {
      expect(byRunner.get(tree.runner.id)).toMatchObject({ cwd: tree.path, turns: 2 });
    }
  });
});
