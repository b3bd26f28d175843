import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import {
  claudeCliEnv,
  type ClaudeSandbox,
  claudeTranscriptPath,
  createClaudeSandbox,
  readJsonLinesFile,
  runClaudeCli,
} from './claude-code-cli';
import {
  bashCallTurns,
  ClaudeStandIn,
  type ServedResponse,
  type StandInUsage,
} from './claude-stand-in';

// The real Claude Code CLI (the pinned @anthropic-ai/claude-code devDependency) against the
// stand-in. Each CLI start parses a 12 MB bundle (about 2 s of CPU), so the waits are generous;
// nothing here asserts on time.
const MODEL = 'claude-sonnet-4-5';
const CLI_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;
/** The only host the pinned CLI tries to reach besides the API (through the refusing proxy). */
const KNOWN_PROXY_TARGETS = ['api.anthropic.com:443'];

const initEvent = z.looseObject({
  type: z.literal('system'),
  subtype: z.literal('init'),
  session_id: z.uuid(),
  model: z.string(),
  cwd: z.string(),
  claude_code_version: z.string(),
});
const modelUsageEntry = z.looseObject({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadInputTokens: z.number(),
  cacheCreationInputTokens: z.number(),
});
const apiUsage = z.looseObject({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
  cache_read_input_tokens: z.number(),
});
const resultEvent = z.looseObject({
  type: z.literal('result'),
  subtype: z.string(),
  is_error: z.boolean(),
  num_turns: z.number(),
  session_id: z.string(),
  usage: apiUsage,
  modelUsage: z.record(z.string(), modelUsageEntry),
});
const assistantEvent = z.looseObject({
  type: z.literal('assistant'),
  message: z.looseObject({ id: z.string(), usage: apiUsage }),
});
const transcriptAssistantLine = z.looseObject({
  type: z.literal('assistant'),
  requestId: z.string(),
  isSidechain: z.boolean().optional(),
  message: z.looseObject({ id: z.string(), model: z.string(), usage: apiUsage }),
});

function eventOf<T>(events: readonly unknown[], schema: z.ZodType<T>): T {
  const found = events.flatMap((event) => {
    const parsed = schema.safeParse(event);
    return parsed.success ? [parsed.data] : [];
  });
  if (found.length !== 1) {
    throw new Error(`expected exactly one matching event, got ${found.length}`);
  }
  return found[0] as T;
}

function tokens(usage: z.infer<typeof apiUsage> | StandInUsage) {
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheCreation: usage.cache_creation_input_tokens,
    cacheRead: usage.cache_read_input_tokens,
  };
}

/**
 * The transcript's API responses, each counted once: its lines share `message.id` and
 * `requestId`, and the one with the most output tokens carries the final usage.
 */
function deduplicatedResponses(lines: readonly unknown[]) {
  const responses = new Map<
    string,
    { messageId: string; requestId: string; model: string; usage: z.infer<typeof apiUsage> }
  >();
  for (const line of lines) {
    const parsed = transcriptAssistantLine.safeParse(line);
    if (!parsed.success || parsed.data.isSidechain === true) continue;
    const { message, requestId } = parsed.data;
    const key = `${message.id}|${requestId}`;
    const seen = responses.get(key);
    if (seen === undefined || message.usage.output_tokens > seen.usage.output_tokens) {
      responses.set(key, {
        messageId: message.id,
        requestId,
        model: message.model,
        usage: message.usage,
      });
    }
  }
  return [...responses.values()];
}

function expectTranscriptMatches(lines: readonly unknown[], served: readonly ServedResponse[]) {
  expect(deduplicatedResponses(lines).map((r) => ({ ...r, usage: tokens(r.usage) }))).toEqual(
    served.map((response) => ({
      messageId: response.messageId,
      requestId: response.requestId,
      model: response.model,
      usage: tokens(response.usage),
    })),
  );
}

function expectNothingUnexpected(standIn: ClaudeStandIn) {
  expect(standIn.unexpectedRequests()).toEqual([]);
  for (const target of standIn.proxyTargets()) expect(KNOWN_PROXY_TARGETS).toContain(target);
}

describe('the real Claude Code CLI against the stand-in', () => {
  let standIn: ClaudeStandIn;
  let sandbox: ClaudeSandbox;

  beforeEach(async () => {
    standIn = await ClaudeStandIn.start({ model: MODEL });
    sandbox = await createClaudeSandbox();
  });

  afterEach(async () => {
    await standIn.close();
    await sandbox.remove();
  });

  const headless = (prompt: string, ...extra: string[]) => [
    '-p',
    prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    '--model',
    MODEL,
    ...extra,
  ];

  it(
    'runs a headless session whose tool call is executed and whose transcript usage is what was served',
    async () => {
      standIn.addTurns(...bashCallTurns({ preface: 'I will write the file.' }));
      // Non-essential traffic on, as a user has it: the CLI then also asks the small fast
      // model for a session title, a side call outside the transcript's usage.
      const env = claudeCliEnv({ standIn, sandbox, nonessentialTraffic: true });

      const run = await runClaudeCli(headless('Write hello to out.txt', '--allowedTools', 'Bash'), {
        cwd: sandbox.cwd,
        env,
        timeoutMs: CLI_TIMEOUT_MS,
      });

      expect({ exitCode: run.exitCode, timedOut: run.timedOut, stderr: run.stderr }).toEqual({
        exitCode: 0,
        timedOut: false,
        stderr: '',
      });
      expectNothingUnexpected(standIn);
      expect(await readFile(join(sandbox.cwd, 'out.txt'), 'utf8')).toBe('hello\n');

      const init = eventOf(run.events, initEvent);
      const result = eventOf(run.events, resultEvent);
      expect(init).toMatchObject({ model: MODEL, cwd: sandbox.cwd });
      expect(result).toMatchObject({
        subtype: 'success',
        is_error: false,
        num_turns: 2,
        session_id: init.session_id,
      });

      const script = standIn.served.filter((response) => response.kind === 'script');
      const side = standIn.served.filter((response) => response.kind === 'side');
      expect(standIn.remainingTurns()).toBe(0);
      expect(script.map((response) => response.sessionId)).toEqual([
        init.session_id,
        init.session_id,
      ]);
      expect(script[1]?.toolResults).toEqual([
        {
          toolUseId: script[0]?.toolUses[0]?.id,
          isError: false,
          content: expect.any(String) as string,
        },
      ]);
      expect(side.length).toBeGreaterThan(0);
      expect(side.every((response) => response.model !== MODEL)).toBe(true);

      // stream-json assistant events carry message_start's usage (output not final yet).
      const streamed = run.events.flatMap((event) => {
        const parsed = assistantEvent.safeParse(event);
        return parsed.success ? [parsed.data.message] : [];
      });
      expect(new Set(streamed.map((message) => message.id))).toEqual(
        new Set(script.map((response) => response.messageId)),
      );
      expect(streamed.every((message) => message.usage.output_tokens === 1)).toBe(true);

      // The result's usage is the main model's; modelUsage has every model, side calls too.
      expect(tokens(result.usage)).toEqual(tokens(standIn.servedUsage({ kind: 'script' })));
      const byModel = Object.fromEntries(
        Object.entries(standIn.servedUsageByModel()).map(([model, usage]) => [
          model,
          {
            inputTokens: usage.input_tokens,
            outputTokens: usage.output_tokens,
            cacheCreationInputTokens: usage.cache_creation_input_tokens,
            cacheReadInputTokens: usage.cache_read_input_tokens,
          },
        ]),
      );
      expect(result.modelUsage).toEqual(
        Object.fromEntries(
          Object.keys(byModel).map((model) => [model, expect.objectContaining(byModel[model])]),
        ),
      );

      const transcript = claudeTranscriptPath(sandbox.configDir, sandbox.cwd, init.session_id);
      expect(transcript).toBe(
        join(
          sandbox.configDir,
          'projects',
          sandbox.cwd.replace(/[/.]/g, '-'),
          `${init.session_id}.jsonl`,
        ),
      );
      expectTranscriptMatches(await readJsonLinesFile(transcript), script);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'continues the same session with --resume: same id, the transcript grows',
    async () => {
      standIn.addTurns({ content: [{ type: 'text', text: 'First answer.' }] });
      const env = claudeCliEnv({ standIn, sandbox });
      const first = await runClaudeCli(headless('Say something'), {
        cwd: sandbox.cwd,
        env,
        timeoutMs: CLI_TIMEOUT_MS,
      });
      expect(first.exitCode).toBe(0);
      const sessionId = eventOf(first.events, initEvent).session_id;
      const transcript = claudeTranscriptPath(sandbox.configDir, sandbox.cwd, sessionId);
      const linesBefore = await readJsonLinesFile(transcript);

      standIn.addTurns({ content: [{ type: 'text', text: 'Continued.' }] });
      const resumed = await runClaudeCli(['--resume', sessionId, ...headless('continue')], {
        cwd: sandbox.cwd,
        env,
        timeoutMs: CLI_TIMEOUT_MS,
      });

      expect({ exitCode: resumed.exitCode, stderr: resumed.stderr }).toEqual({
        exitCode: 0,
        stderr: '',
      });
      expectNothingUnexpected(standIn);
      expect(eventOf(resumed.events, initEvent).session_id).toBe(sessionId);
      const result = eventOf(resumed.events, resultEvent);
      expect(result).toMatchObject({ subtype: 'success', num_turns: 1, session_id: sessionId });
      // With non-essential traffic off there is no side call: every response is a script turn.
      expect(standIn.served.map((response) => response.kind)).toEqual(['script', 'script']);
      const [firstServed, resumedServed] = standIn.served;
      if (firstServed === undefined || resumedServed === undefined) throw new Error('unreachable');
      // Usage in the result is this process's, not the session's so far.
      expect(tokens(result.usage)).toEqual(tokens(resumedServed.usage));
      // The resumed request carried the earlier conversation, under the same session id.
      expect(resumedServed.requestMessages).toBeGreaterThan(firstServed.requestMessages);
      expect(resumedServed.sessionId).toBe(sessionId);
      const linesAfter = await readJsonLinesFile(transcript);
      expect(linesAfter.length).toBeGreaterThan(linesBefore.length);
      expect(linesAfter.slice(0, linesBefore.length)).toEqual(linesBefore);
      expectTranscriptMatches(linesAfter, standIn.served);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'as root, bypasses permissions only with IS_SANDBOX=1 (the Write tool then runs unasked)',
    async () => {
      const asRoot = process.getuid?.() === 0;
      const bypass = headless('Write the file', '--permission-mode', 'bypassPermissions');
      // Its own stand-in with an empty script: as root the CLI exits before calling any API.
      const untouched = await ClaudeStandIn.start({ model: MODEL });
      try {
        const refused = await runClaudeCli(bypass, {
          cwd: sandbox.cwd,
          env: claudeCliEnv({ standIn: untouched, sandbox }),
          timeoutMs: CLI_TIMEOUT_MS,
        });
        expect({
          refused: refused.exitCode === 1,
          message: refused.stderr.includes('cannot be used with root/sudo privileges'),
        }).toEqual({ refused: asRoot, message: asRoot });
        expect(untouched.requests.some((request) => request.path.startsWith('/v1/messages'))).toBe(
          !asRoot,
        );
      } finally {
        await untouched.close();
      }

      standIn.addTurns(
        {
          content: [
            {
              type: 'tool_use',
              name: 'Write',
              input: { file_path: join(sandbox.cwd, 'written.txt'), content: 'written\n' },
            },
          ],
        },
        { content: [{ type: 'text', text: 'Done.' }] },
      );
      const allowed = await runClaudeCli(bypass, {
        cwd: sandbox.cwd,
        env: claudeCliEnv({ standIn, sandbox, bypassPermissionsAsRoot: true }),
        timeoutMs: CLI_TIMEOUT_MS,
      });

      expect(allowed.exitCode).toBe(0);
      expectNothingUnexpected(standIn);
      expect(eventOf(allowed.events, initEvent)).toMatchObject({
        permissionMode: 'bypassPermissions',
      });
      expect(standIn.served[1]?.toolResults).toEqual([
        expect.objectContaining({ toolUseId: standIn.served[0]?.toolUses[0]?.id, isError: false }),
      ]);
      expect(await readFile(join(sandbox.cwd, 'written.txt'), 'utf8')).toBe('written\n');
    },
    TEST_TIMEOUT_MS,
  );
});
