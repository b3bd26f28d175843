import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type AgentConfig } from './agent-config';
import { RecordingLogger, startRecordingIngest } from './agent-fakes.test-support';
import { NodeChildLauncher } from './child-process';
import { type LineSink } from './line-splitter';
import { childLogFile, runAgent } from './run-agent';

const RUNNER_ID = '44444444-4444-4444-8444-444444444444';
const SESSION_ID = '5f0c2a8e-3b1d-4c52-9e7a-0d6b1f4a9c21';
const RECORDING_FILE = join(__dirname, 'fixtures', 'claude-headless-run.jsonl');

const startIngest = () => startRecordingIngest(200);

/**
 * A stand-in `claude` executable: writes the recording to stdout in 97-byte pieces (so lines are
 * cut mid-way, sometimes mid-character; each piece flushed before the next is written), a
 * warning to stderr, and exits 0.
 */
function fakeClaudeScript(recording: string): string {
  return `#!${process.execPath}
const data = Buffer.from(${JSON.stringify(recording)}, 'utf8');
process.stderr.write('claude: a warning on stderr\\n');
let offset = 0;
function next() {
  if (offset >= data.length) return;
  const piece = data.subarray(offset, offset + 97);
  offset += 97;
  process.stdout.write(piece, () => setImmediate(next));
}
next();
`;
}

describe('the Claude headless adapter with a real child', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratavore-agent-headless-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a `claude -p --output-format stream-json` child and still logs all of its output', async () => {
    const recording = await readFile(RECORDING_FILE, 'utf8');
    const claude = join(dir, 'claude');
    await writeFile(claude, fakeClaudeScript(recording));
    await chmod(claude, 0o755);
    const ingest = await startIngest();
    try {
      const config: AgentConfig = {
        STRATAVORE_RUNNER_ID: RUNNER_ID,
        STRATAVORE_RUNNER_TOKEN: 'token',
        STRATAVORE_HEARTBEAT_URL: ingest.url,
        STRATAVORE_LOG_DIR: dir,
        STRATAVORE_AGENT_LOG_LEVEL: 'info',
      };
      const outcome = await runAgent({
        args: {
          intervalMs: 200,
          stopTimeoutMs: 1_000,
          finalReportTimeoutMs: 5_000,
          command: [claude, '-p', 'list the files', '--output-format', 'stream-json', '--verbose'],
        },
        config,
        logger: new RecordingLogger(),
        cwd: dir,
        env: { ...process.env, CLAUDE_CONFIG_DIR: join(dir, 'claude-config') },
      });
      expect(outcome).toMatchObject({ exitCode: 0, finalReport: 'delivered' });

      // Totals worked out by hand in claude-headless-usage-source.spec.ts.
      const final = ingest.bodies.at(-1);
      expect(final).toMatchObject({
        status: 'exited',
        sessionId: SESSION_ID,
        counters: {
          inputTokens: 308,
          outputTokens: 148,
          cacheCreationTokens: 2_300,
          cacheReadTokens: 22_000,
        },
        session: {
          sessionId: SESSION_ID,
          turns: 2,
          costUsd: 0.017569,
          reportedCostUsd: 0.017569,
          cwd: '/work/project',
          transcriptPath: null,
          result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
        },
      });

      const log = await readFile(childLogFile(config), 'utf8');
      expect(log).toContain('claude: a warning on stderr\n');
      expect(log.replace('claude: a warning on stderr\n', '')).toBe(recording);
    } finally {
      await ingest.stop();
    }
  });

  it("writes STRATAVORE_PROMPT to the child's stdin and keeps it out of the child's environment", async () => {
    const ingest = await startIngest();
    try {
      const config: AgentConfig = {
        STRATAVORE_RUNNER_ID: RUNNER_ID,
        STRATAVORE_RUNNER_TOKEN: 'token',
        STRATAVORE_HEARTBEAT_URL: ingest.url,
        STRATAVORE_LOG_DIR: dir,
        STRATAVORE_AGENT_LOG_LEVEL: 'info',
        STRATAVORE_PROMPT: 'fix the flaky test ✓',
      };
      const outcome = await runAgent({
        args: {
          intervalMs: 200,
          stopTimeoutMs: 1_000,
          finalReportTimeoutMs: 5_000,
          command: [
            process.execPath,
            '-e',
            "let d = ''; process.stdin.setEncoding('utf8').on('data', (c) => (d += c)).on('end', () => console.log('stdin=' + d + ' env=' + (process.env.STRATAVORE_PROMPT ?? 'absent')));",
          ],
        },
        config,
        logger: new RecordingLogger(),
        cwd: dir,
        env: { ...process.env, STRATAVORE_PROMPT: 'fix the flaky test ✓' },
      });
      expect(outcome).toMatchObject({ exitCode: 0 });
      expect(await readFile(childLogFile(config), 'utf8')).toBe(
        'stdin=fix the flaky test ✓ env=absent\n',
      );
    } finally {
      await ingest.stop();
    }
  });

  it('does not wait for a stdout a grandchild keeps open beyond the drain timeout', async () => {
    const lines: string[] = [];
    let ends = 0;
    const sink: LineSink = {
      line: (text) => lines.push(text),
      end: () => void ends++,
    };
    const launcher = new NodeChildLauncher({
      cwd: dir,
      env: process.env,
      logFile: join(dir, 'drain.log'),
      stdoutLines: sink,
      stdoutDrainTimeoutMs: 300,
    });
    // The child prints its grandchild's pid and exits; the grandchild inherits stdout and holds
    // it open for a minute, longer than the test may run.
    const child = await launcher.launch([
      process.execPath,
      '-e',
      "const g = require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: ['ignore', 'inherit', 'inherit'] }); g.unref(); console.log(String(g.pid));",
    ]);
    try {
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // exited resolved while stdout is still held open: the grandchild is alive.
      const grandchild = Number(lines[0]);
      expect(grandchild).toBeGreaterThan(0);
      expect(() => process.kill(grandchild, 0)).not.toThrow();
      expect(ends).toBe(1);
    } finally {
      // The child led its own process group; the grandchild is in it.
      process.kill(-child.pid, 'SIGKILL');
    }
  });
});
