import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { bashCallTurns, claudeCliEnv, claudeCodeCliPath } from '@stratavore/testing';

import { type AgentConfig } from './agent-config';
import {
  RecordingLogger,
  startRecordingIngest,
  useClaudeCliSuite,
} from './agent-fakes.test-support';
import { runAgent } from './run-agent';

// The agent's HTTP hooks in the real Claude Code CLI 2.1.112 (headless, against the stand-in
// Messages API): a `-p` run fires SessionStart, UserPromptSubmit, PostToolUse (the tool call
// the stand-in scripts), Stop and SessionEnd, and the hooks of the user's own settings (the
// project's settings file, and a `--settings` of the command) still run beside the agent's.
const MODEL = 'claude-sonnet-4-5';
const TEST_TIMEOUT_MS = 240_000;

describe("the agent's Claude Code hooks in the real CLI", () => {
  const claude = useClaudeCliSuite(MODEL, 'stratavore-agent-hooks-');

  it(
    'receives every hook of a headless run, and the user settings keep their own hooks',
    async () => {
      claude.standIn.addTurns(...bashCallTurns());
      // The project's own hook, in its settings file: Claude Code merges it with --settings.
      await mkdir(join(claude.sandbox.cwd, '.claude'), { recursive: true });
      await writeFile(
        join(claude.sandbox.cwd, '.claude', 'settings.json'),
        JSON.stringify({
          hooks: { Stop: [{ hooks: [{ type: 'command', command: 'touch project-stop-hook' }] }] },
        }),
      );
      const own = {
        hooks: {
          SessionEnd: [{ hooks: [{ type: 'command', command: 'touch own-session-end-hook' }] }],
        },
      };
      const ingest = await startRecordingIngest(500);
      const config: AgentConfig = {
        STRATAVORE_RUNNER_ID: '77777777-7777-4777-8777-777777777777',
        STRATAVORE_RUNNER_TOKEN: 'token',
        STRATAVORE_HEARTBEAT_URL: ingest.url,
        STRATAVORE_LOG_DIR: claude.logDir,
        STRATAVORE_AGENT_LOG_LEVEL: 'info',
      };
      const logger = new RecordingLogger();
      try {
        const outcome = await runAgent({
          args: {
            intervalMs: 500,
            stopTimeoutMs: 5_000,
            finalReportTimeoutMs: 10_000,
            command: [
              process.execPath,
              claudeCodeCliPath(),
              '-p',
              'Write hello to out.txt',
              '--allowedTools',
              'Bash',
              '--settings',
              JSON.stringify(own),
              '--output-format',
              'stream-json',
              '--verbose',
              '--model',
              MODEL,
            ],
          },
          config,
          logger,
          cwd: claude.sandbox.cwd,
          env: claudeCliEnv({ standIn: claude.standIn, sandbox: claude.sandbox }),
        });
        expect(outcome).toMatchObject({ exitCode: 0, finalReport: 'delivered' });
        expect(claude.standIn.unexpectedRequests()).toEqual([]);

        const received = logger.lines.find((line) => line.message === 'Claude Code hooks received');
        expect(received?.fields.hooks).toEqual({
          SessionStart: 1,
          UserPromptSubmit: 1,
          PostToolUse: 1,
          Stop: 1,
          SessionEnd: 1,
        });
        // The user's hooks ran too.
        expect(existsSync(join(claude.sandbox.cwd, 'project-stop-hook'))).toBe(true);
        expect(existsSync(join(claude.sandbox.cwd, 'own-session-end-hook'))).toBe(true);
        expect(existsSync(join(claude.sandbox.cwd, 'out.txt'))).toBe(true);

        // A headless run works to its end: never idle, never waiting.
        const final = ingest.bodies.at(-1);
        expect(final?.session).toMatchObject({
          sessionId: claude.standIn.served[0]?.sessionId,
          waitingForInput: false,
          activity: { state: 'working', reason: 'UserPromptSubmit', message: null },
        });
        expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([]);
      } finally {
        await ingest.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
