import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type GatewayEvent, StratavoreApiClient } from '@stratavore/api-client';
import { type RunnerReply } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

import { writeFakeClaude } from '../testing/fake-claude.test-support';

/*
 * `stratavore run` end to end on real PostgreSQL: the single-node daemon (every service, the
 * in-process bus) and the CLI run from their TypeScript sources as processes, the CLI starts the
 * interactive agent, the agent a scripted `claude` (testing/fake-claude.test-support.ts) that
 * posts Claude Code hooks and writes a real 2.1.39 transcript (libs/shared/claude-code/src/
 * fixtures, the spotter samples). The terminal is a pipe the test types into.
 *
 * De-duplicated totals of the two files, read off them by hand (see the fixtures' README and
 * usage-ledger.fixtures.spec.ts): opus input 4, output 308 (9 + 299, not the four copies of
 * 10), 5-minute cache writes 20,606, cache reads 40,951; the subagent's sonnet input 3,
 * output 3, writes 13,522.
 */
const WORKSPACE = join(__dirname, '../../../..');
const SAMPLES = join(WORKSPACE, 'libs/shared/claude-code/src/fixtures');
/** TypeScript through swc; absolute, since the agent runs in the project's directory. */
const NODE_TS = ['-r', require.resolve('@swc-node/register')];
const STEP_MS = 60_000;

interface Proc {
  readonly child: ChildProcess;
  output: string;
  errors: string;
  exit: Promise<number | null>;
}

/** Started in a process group of its own, so that `kill` takes its children down too. */
function start(args: string[], env: NodeJS.ProcessEnv, cwd = WORKSPACE): Proc {
  const child = spawn(process.execPath, [...NODE_TS, ...args], {
    cwd,
    env: { ...env, SWC_NODE_PROJECT: join(WORKSPACE, 'tsconfig.base.json') },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const proc: Proc = {
    child,
    output: '',
    errors: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => (proc.output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (proc.errors += chunk.toString()));
  return proc;
}

function kill(proc: Proc, signal: NodeJS.Signals): void {
  try {
    if (proc.child.pid !== undefined) process.kill(-proc.child.pid, signal);
  } catch {
    // Gone already.
  }
}

/** The environment without what a surrounding run may set (a broker, a Claude config, keys). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(STRATAVORE_|AMQP_URL|CLAUDE|ANTHROPIC_|HEARTBEAT_|RUNNER_LOG_DIR)/.test(name)) {
      delete env[name];
    }
  }
  return env;
}

describe('stratavore run (interactive runner) on PostgreSQL', () => {
  let db: TestDatabase;
  let root: string;
  let daemon: Proc;
  let client: StratavoreApiClient;
  let cliEnv: NodeJS.ProcessEnv;
  let claude: string;
  const events: GatewayEvent[] = [];
  const stopEvents = new AbortController();

  beforeAll(async () => {
    db = await createTestDatabase('cli_run');
    root = mkdtempSync(join(tmpdir(), 'stratavore-run-'));
    mkdirSync(join(root, 'project'));
    mkdirSync(join(root, 'fixtures'));
    copyFileSync(
      join(SAMPLES, 'transcript_spotter_selected_v2.1.39.jsonl'),
      join(root, 'fixtures', 'main.jsonl'),
    );
    copyFileSync(
      join(SAMPLES, 'transcript_spotter_subagent_v2.1.39.jsonl'),
      join(root, 'fixtures', 'subagent.jsonl'),
    );
    mkdirSync(join(root, 'bin'));
    claude = writeFakeClaude(join(root, 'bin'));
    const config = join(root, 'cli.json');
    daemon = start(['apps/stratavored/src/main.ts'], {
      ...cleanEnv(),
      DATABASE_URL: db.url,
      STRATAVORE_DATA_DIR: join(root, 'data'),
      STRATAVORE_CONFIG: config,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      HEARTBEAT_INTERVAL: '500ms',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
    });
    const settings = await waitFor(
      () => {
        if (daemon.child.exitCode !== null) throw new Error(`the daemon exited: ${daemon.errors}`);
        if (!existsSync(config)) return null;
        const parsed = JSON.parse(readFileSync(config, 'utf8')) as {
          apiUrl?: string;
          apiKey?: string;
        };
        return parsed.apiUrl && parsed.apiKey ? parsed : null;
      },
      { timeoutMs: 180_000, intervalMs: 200, description: 'the daemon to write the CLI config' },
    );
    client = new StratavoreApiClient({
      baseUrl: settings.apiUrl as string,
      token: settings.apiKey as string,
    });
    await client.createProject({ name: 'shop', path: join(root, 'project'), maxRunners: 1 });
    cliEnv = {
      ...cleanEnv(),
      STRATAVORE_CONFIG: config,
      STRATAVORE_AGENT_PATH: join(WORKSPACE, 'apps/agent/src/interactive.ts'),
      STRATAVORE_DATA_DIR: join(root, 'data'),
      CLAUDE_CONFIG_DIR: join(root, 'claude'),
      FAKE_CLAUDE_FIXTURES: join(root, 'fixtures'),
      NO_COLOR: '1',
    };
    void (async () => {
      for await (const event of client.streamEvents({
        types: ['runner.*'],
        signal: stopEvents.signal,
      })) {
        events.push(event);
      }
    })().catch(() => undefined);
  }, 240_000);

  afterAll(async () => {
    stopEvents.abort();
    if (daemon && daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exit;
    }
    await db?.drop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  async function runnerOf(cli: Proc): Promise<string> {
    const match = await waitFor(
      () => {
        if (cli.child.exitCode !== null) throw new Error(`run exited: ${cli.errors}`);
        return /-- runner ([0-9a-f-]{36}) in shop/.exec(cli.errors);
      },
      { timeoutMs: STEP_MS, intervalMs: 100, description: 'run to register its runner' },
    );
    return match[1] as string;
  }

  async function runnerIn(
    id: string,
    state: RunnerReply['state'],
    what: string,
  ): Promise<RunnerReply> {
    let last: RunnerReply | undefined;
    try {
      return await waitFor(
        async () => {
          last = await client.getRunner(id);
          return last.state === state ? last : null;
        },
        { timeoutMs: STEP_MS, intervalMs: 100, description: what },
      );
    } catch (error) {
      if (error instanceof Error) {
        error.message += `\nlast seen: ${last ? JSON.stringify({ state: last.state, activity: last.activity, lastHeartbeatAt: last.lastHeartbeatAt, sessionId: last.sessionId }) : '(none)'}`;
      }
      throw error;
    }
  }

  async function type(cli: Proc, command: string): Promise<void> {
    const before = cli.output
      .split('\n')
      .filter((line) => line === `done ${command.split(' ')[0]}`).length;
    cli.child.stdin?.write(`${command}\n`);
    await waitFor(
      () =>
        cli.output.split('\n').filter((line) => line === `done ${command.split(' ')[0]}`).length >
        before,
      { timeoutMs: STEP_MS, intervalMs: 50, description: `the fake claude to do "${command}"` },
    );
  }

  /** What the processes said, for a failing step's message. */
  function diagnose(cli: Proc, runnerId: string | undefined): string {
    const agentLog =
      runnerId === undefined ? null : join(root, 'data', 'runners', `${runnerId}.agent.log`);
    return [
      `run stdout:\n${cli.output}`,
      `run stderr:\n${cli.errors}`,
      `agent log:\n${agentLog !== null && existsSync(agentLog) ? readFileSync(agentLog, 'utf8') : '(none)'}`,
      `daemon output (tail):\n${daemon.output.slice(-4000)}${daemon.errors.slice(-2000)}`,
    ].join('\n');
  }

  /** Runs the steps, adding what the processes said to a failure. */
  async function steps(cli: Proc, body: (runner: { id?: string }) => Promise<void>) {
    const runner: { id?: string } = {};
    try {
      await body(runner);
    } catch (error) {
      if (error instanceof Error) error.message += `\n${diagnose(cli, runner.id)}`;
      throw error;
    } finally {
      // The CLI, its agent and the agent's command.
      kill(cli, 'SIGKILL');
    }
  }

  const typesOf = (runnerId: string) =>
    events
      .map((event) => event.data as { type: string; data: { runnerId?: string } })
      .filter((event) => event.data.runnerId === runnerId)
      .map((event) => event.type);

  it('shows Claude waiting and idle, counts the transcript once, and ends with its exit code', async () => {
    const cli = start(['apps/cli/src/bin.ts', 'run', 'shop', '--', claude], cliEnv);
    await steps(cli, async (runner) => {
      const id = await runnerOf(cli);
      runner.id = id;
      const sessionId = /Claude session ([0-9a-f-]{36})/.exec(cli.errors)?.[1];
      expect(sessionId).toEqual(expect.any(String));
      await waitFor(
        () => {
          if (cli.child.exitCode !== null) throw new Error('run exited');
          return cli.output.includes('ready\n');
        },
        {
          timeoutMs: STEP_MS,
          description: 'the fake claude to start',
        },
      );

      // SessionStart: the prompt box waits for the user.
      const idle = await runnerIn(id, 'idle', 'the runner idle after SessionStart');
      expect(idle).toMatchObject({
        mode: 'interactive',
        attached: true,
        cwd: join(root, 'project'),
        activity: { state: 'idle', reason: 'SessionStart', message: null },
      });
      expect(idle.command).toEqual([claude, '--session-id', sessionId]);

      await type(cli, 'prompt');
      await runnerIn(id, 'running', 'the runner working after the prompt');
      await type(cli, 'notify');
      const waiting = await runnerIn(id, 'waiting', 'the runner waiting for permission');
      expect(waiting.activity).toMatchObject({
        state: 'waiting',
        reason: 'permission_prompt',
        message: 'Claude needs your permission to use Bash',
      });
      // A second quota slot does not exist: the project holds one runner, which waits.
      await expect(
        client.attachRunner('shop', { host: 'elsewhere', command: ['bash'] }),
      ).rejects.toMatchObject({ status: 409, code: 'QUOTA_EXCEEDED' });

      await type(cli, 'tool');
      await runnerIn(id, 'running', 'the runner working again after the tool ran');
      await type(cli, 'stop');
      await runnerIn(id, 'idle', 'the runner idle after its turn');
      await type(cli, 'exit 0');
      expect(await cli.exit).toBe(0);

      const done = await runnerIn(id, 'completed', 'the runner completed');
      expect(done).toMatchObject({ exitCode: 0, sessionId });
      expect(done.tokens).toEqual({
        inputTokens: 7,
        outputTokens: 311,
        cacheCreationTokens: 34_128,
        cacheReadTokens: 40_951,
      });
      expect(cli.errors).toContain(`-- runner ${id} ended (exit 0)`);

      const session = await waitFor(
        async () => {
          const detail = await client.getSession(sessionId as string);
          return detail.turns === 2 && detail.endedAt !== null ? detail : null;
        },
        { timeoutMs: STEP_MS, intervalMs: 200, description: 'session-store to have the session' },
      );
      expect(session).toMatchObject({
        id: sessionId,
        runnerId: id,
        tokens: { input: 7, output: 311, cacheCreation: 34_128, cacheRead: 40_951 },
      });

      // Once per transition: idle (start), resumed, waiting, resumed, idle (Stop).
      const transitions = await waitFor(
        () => {
          const seen = typesOf(id).filter((type) =>
            ['runner.waiting', 'runner.idle', 'runner.resumed-work'].includes(type),
          );
          return seen.length >= 5 ? seen : null;
        },
        { timeoutMs: STEP_MS, intervalMs: 100, description: 'the activity events' },
      );
      expect(transitions).toEqual([
        'runner.idle',
        'runner.resumed-work',
        'runner.waiting',
        'runner.resumed-work',
        'runner.idle',
      ]);
      expect(typesOf(id)).toEqual(
        expect.arrayContaining(['runner.launched', 'runner.starting', 'runner.running']),
      );
    });
  }, 300_000);

  it('is stopped by stratavore kill through its heartbeats and exits with the signal', async () => {
    const cli = start(['apps/cli/src/bin.ts', 'run', 'shop', '--', claude], cliEnv);
    await steps(cli, async (runner) => {
      const id = await runnerOf(cli);
      runner.id = id;
      await runnerIn(id, 'idle', 'the runner idle');
      const stopping = await client.stopRunner(id);
      expect(stopping.state).toBe('stopping');
      // The agent hears it in its next heartbeat's answer and SIGTERMs the command.
      expect(await cli.exit).toBe(143);
      const stopped = await runnerIn(id, 'stopped', 'the runner stopped');
      expect(stopped).toMatchObject({ signal: 'SIGTERM', desiredState: 'stop' });
    });
  }, 300_000);
});
