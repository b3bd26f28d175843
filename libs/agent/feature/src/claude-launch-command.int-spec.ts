import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { claudeHeadlessCommand } from '@stratavore/claude-code';
import {
  bashCallTurns,
  claudeCliEnv,
  claudeCodeCliPath,
  claudeTranscriptPath,
} from '@stratavore/testing';

import { type AgentConfig } from './agent-config';
import {
  RecordingLogger,
  startRecordingIngest,
  useClaudeCliSuite,
} from './agent-fakes.test-support';
import { runAgent } from './run-agent';

// The command runner-manager builds for a headless Claude launch and for a resume
// (`claudeHeadlessCommand`, docs/claude-code.md "Launching Claude Code"), run by the agent
// around the real CLI against the stand-in API: the prompt travels on stdin only, and the
// resume goes on with the same session. Each CLI start costs a few seconds of CPU.
const MODEL = 'claude-sonnet-4-5';
const TEST_TIMEOUT_MS = 240_000;
const PROMPT = 'Write hello to out.txt (this prompt came on stdin)';

const startIngest = () => startRecordingIngest(500);

describe("runner-manager's Claude launch command under the agent, real CLI", () => {
  const claude = useClaudeCliSuite(MODEL, 'stratavore-agent-launch-');

  it(
    'runs the headless command with the prompt on stdin, then resumes the same session',
    async () => {
      claude.standIn.addTurns(...bashCallTurns(), {
        content: [{ type: 'text', text: 'Continuing.' }],
      });
      const env = claudeCliEnv({ standIn: claude.standIn, sandbox: claude.sandbox });
      const ingest = await startIngest();
      const config = (runnerId: string, prompt: string): AgentConfig => ({
        STRATAVORE_RUNNER_ID: runnerId,
        STRATAVORE_RUNNER_TOKEN: 'token',
        STRATAVORE_HEARTBEAT_URL: ingest.url,
        STRATAVORE_LOG_DIR: claude.logDir,
        STRATAVORE_AGENT_LOG_LEVEL: 'info',
        STRATAVORE_PROMPT: prompt,
      });
      const args = (command: readonly string[]) => ({
        intervalMs: 500,
        stopTimeoutMs: 5_000,
        finalReportTimeoutMs: 10_000,
        command,
      });
      try {
        const command =
          claudeHeadlessCommand([process.execPath, claudeCodeCliPath()], {
            model: MODEL,
            maxTurns: 5,
            allowedTools: ['Bash', 'Read'],
            permissionMode: 'acceptEdits',
          }) ?? [];
        expect(command.join(' ')).not.toContain(PROMPT);
        const logger = new RecordingLogger();
        const first = await runAgent({
          args: args(command),
          config: config('77777777-7777-4777-8777-777777777777', PROMPT),
          logger,
          cwd: claude.sandbox.cwd,
          env,
        });
        expect(first).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
        expect(await readFile(join(claude.sandbox.cwd, 'out.txt'), 'utf8')).toBe('hello\n');
        const sessionId = ingest.bodies.at(-1)?.sessionId;
        expect(sessionId).toEqual(expect.any(String));
        const transcript = claudeTranscriptPath(
          claude.sandbox.configDir,
          claude.sandbox.cwd,
          sessionId ?? '',
        );
        expect(await readFile(transcript, 'utf8')).toContain(PROMPT);

        // The restart of a failed runner, or `stratavore resume`: --resume with "continue".
        const resumed = claudeHeadlessCommand(command, { resume: sessionId ?? '' }) ?? [];
        const second = await runAgent({
          args: args(resumed),
          config: config('88888888-8888-4888-8888-888888888888', 'continue'),
          logger,
          cwd: claude.sandbox.cwd,
          env,
        });
        expect(second).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
        const last = ingest.bodies.at(-1);
        expect(last?.sessionId).toBe(sessionId);
        expect(last?.session).toMatchObject({
          resumedFrom: sessionId,
          result: { subtype: 'success', isError: false },
        });
        expect(claude.standIn.unexpectedRequests()).toEqual([]);
      } finally {
        await ingest.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
