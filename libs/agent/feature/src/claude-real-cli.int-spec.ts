import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  claudeCliEnv,
  claudeCodeCliPath,
  claudeTranscriptPath,
  type ServedResponse,
  sumStandInUsage,
} from '@stratavore/testing';

import { type AgentConfig } from './agent-config';
import {
  type RecordedTranscript,
  RecordingLogger,
  startRecordingIngest,
  useClaudeCliSuite,
} from './agent-fakes.test-support';
import { childLogFile, runAgent } from './run-agent';

// The real Claude Code CLI (the pinned devDependency, see docs/claude-code.md) under the agent,
// against the stand-in Messages API: what the agent reports must be exactly what was served.
// Each CLI start costs a few seconds of CPU; nothing here asserts on time.
const MODEL = 'claude-sonnet-4-5';
const TEST_TIMEOUT_MS = 240_000;

const startIngest = () => startRecordingIngest(500);

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The last upload of the session's main transcript. */
function lastUpload(uploads: readonly RecordedTranscript[], sessionId: string) {
  const last = uploads.filter((u) => u.sessionId === sessionId && u.kind === 'main').at(-1);
  return (
    last && {
      sha256: last.sha256,
      authorization: last.authorization,
      contentType: last.contentType,
    }
  );
}

/** The counters the agent must report for these served responses. */
function countersOf(served: readonly ServedResponse[]) {
  const total = sumStandInUsage(served.map((response) => response.usage));
  return {
    inputTokens: total.input_tokens,
    outputTokens: total.output_tokens,
    cacheCreationTokens: total.cache_creation_input_tokens,
    cacheReadTokens: total.cache_read_input_tokens,
  };
}

/** The session snapshot's models for these served responses. */
function modelsOf(served: readonly ServedResponse[]) {
  const models = [...new Set(served.map((response) => response.model))];
  return Object.fromEntries(
    models.map((model) => {
      const total = sumStandInUsage(
        served.filter((response) => response.model === model).map((response) => response.usage),
      );
      return [
        model,
        {
          input: total.input_tokens,
          output: total.output_tokens,
          cacheCreation5m: total.cache_creation.ephemeral_5m_input_tokens,
          cacheCreation1h: total.cache_creation.ephemeral_1h_input_tokens,
          cacheRead: total.cache_read_input_tokens,
          webSearchRequests: 0,
        },
      ];
    }),
  );
}

describe('the agent around the real Claude Code CLI', () => {
  const suite = useClaudeCliSuite(MODEL, 'stratavore-agent-cli-');

  it(
    'reports exactly the served tokens, the session and its transcript, then again after --resume',
    async () => {
      suite.standIn.addTurns(
        {
          content: [
            { type: 'text', text: 'I will write the file.' },
            {
              type: 'tool_use',
              name: 'Bash',
              input: { command: 'echo hello > out.txt', description: 'Write out.txt' },
            },
          ],
        },
        { content: [{ type: 'text', text: 'Wrote out.txt.' }] },
      );
      // Non-essential traffic on: the CLI also asks Haiku for a session title, a side call that
      // only `result.modelUsage` reports.
      const env = claudeCliEnv({
        standIn: suite.standIn,
        sandbox: suite.sandbox,
        nonessentialTraffic: true,
      });
      const ingest = await startIngest();
      const config = (runnerId: string): AgentConfig => ({
        STRATAVORE_RUNNER_ID: runnerId,
        STRATAVORE_RUNNER_TOKEN: 'token',
        STRATAVORE_HEARTBEAT_URL: ingest.url,
        STRATAVORE_LOG_DIR: suite.logDir,
        STRATAVORE_AGENT_LOG_LEVEL: 'info',
      });
      const claude = (...args: string[]) => [
        process.execPath,
        claudeCodeCliPath(),
        ...args,
        '--output-format',
        'stream-json',
        '--verbose',
        '--model',
        MODEL,
      ];
      try {
        const logger = new RecordingLogger();
        const first = config('55555555-5555-4555-8555-555555555555');
        const outcome = await runAgent({
          args: {
            intervalMs: 500,
            stopTimeoutMs: 5_000,
            finalReportTimeoutMs: 10_000,
            command: claude('-p', 'Write hello to out.txt', '--allowedTools', 'Bash'),
          },
          config: first,
          logger,
          cwd: suite.sandbox.cwd,
          env,
        });
        expect(outcome).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
        expect(await readFile(join(suite.sandbox.cwd, 'out.txt'), 'utf8')).toBe('hello\n');
        expect(suite.standIn.unexpectedRequests()).toEqual([]);

        const served = [...suite.standIn.served];
        const sessionId = served[0]?.sessionId;
        expect(sessionId).toEqual(expect.any(String));
        const final = ingest.bodies.at(-1);
        expect(final?.status).toBe('exited');
        expect(final?.sessionId).toBe(sessionId);
        expect(final?.counters).toEqual(countersOf(served));
        const transcript = claudeTranscriptPath(
          suite.sandbox.configDir,
          suite.sandbox.cwd,
          sessionId as string,
        );
        expect(existsSync(transcript)).toBe(true);
        // The transcript reached session-store's endpoint byte for byte, with the runner token.
        expect(lastUpload(ingest.transcripts, sessionId as string)).toEqual({
          sha256: await sha256Of(transcript),
          authorization: 'Bearer token',
          contentType: 'application/x-ndjson',
        });
        expect(final?.session).toMatchObject({
          sessionId,
          models: modelsOf(served),
          turns: 2,
          cwd: suite.sandbox.cwd,
          transcriptPath: transcript,
          resumedFrom: null,
          waitingForInput: false,
          result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
        });
        // Our list prices and the CLI's own give the same cost.
        expect(final?.session?.costUsd).toBeCloseTo(final?.session?.reportedCostUsd ?? -1, 9);
        expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([]);
        // The child's stdout still reached the log.
        expect(await readFile(childLogFile(first), 'utf8')).toContain('"type":"result"');

        // Resume: the same session goes on; this runner reports this process's usage only.
        suite.standIn.addTurns({ content: [{ type: 'text', text: 'Still here.' }] });
        const before = suite.standIn.served.length;
        const resumedOutcome = await runAgent({
          args: {
            intervalMs: 500,
            stopTimeoutMs: 5_000,
            finalReportTimeoutMs: 10_000,
            command: claude('--resume', sessionId as string, '-p', 'Are you still there?'),
          },
          config: config('66666666-6666-4666-8666-666666666666'),
          logger,
          cwd: suite.sandbox.cwd,
          env,
        });
        expect(resumedOutcome).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
        const servedAfterResume = suite.standIn.served.slice(before);
        const resumed = ingest.bodies.at(-1);
        expect(resumed?.sessionId).toBe(sessionId);
        expect(resumed?.counters).toEqual(countersOf(servedAfterResume));
        expect(resumed?.session).toMatchObject({
          sessionId,
          models: modelsOf(servedAfterResume),
          resumedFrom: sessionId,
          result: { subtype: 'success', isError: false },
        });
        // The CLI appended to the same file; the resumed runner's upload replaces the first one.
        expect(lastUpload(ingest.transcripts, sessionId as string)?.sha256).toBe(
          await sha256Of(transcript),
        );
      } finally {
        await ingest.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
