import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { transcriptRelativePath } from '@stratavore/claude-code';

import { RecordingLogger } from './agent-fakes.test-support';
import { ClaudeInteractiveUsageSource } from './claude-interactive-usage-source';
import { SessionTranscripts } from './claude-transcript-follower';

/*
 * The fixtures are real Claude Code 2.1.39 transcripts (see fixtures/README.md). Figures read
 * off the files by hand: the main file holds two opus responses, msg_01Pd... on line 4 (input 3,
 * 5-minute cache writes 15,005, cache reads 11,442, output 9) and msg_01Ac... on lines 6-10
 * (input 1, writes 5,601, reads 29,509; output 10 on four lines, 299 on the last). The
 * subagent file holds one sonnet response on lines 2-3 (input 3, writes 13,522, output 3).
 */
const SESSION = '4d5611e5-241a-462a-8d15-5122611a9569';
const CWD = '/home/USER/projects/spotter-worktrees/spotter-dov';
const OPUS = 'claude-opus-4-6';
const SONNET = 'claude-sonnet-4-5-20250929';
const lines = (name: string) =>
  readFileSync(join(__dirname, 'fixtures', name), 'utf8')
    .split('\n')
    .filter(Boolean);
const MAIN = lines('transcript_spotter_selected_v2.1.39.jsonl');
const SUBAGENT = lines('transcript_spotter_subagent_v2.1.39.jsonl');

const OPUS_TOTAL = {
  input: 4,
  output: 308,
  cacheCreation5m: 20_606,
  cacheCreation1h: 0,
  cacheRead: 40_951,
  webSearchRequests: 0,
};
const SONNET_TOTAL = {
  input: 3,
  output: 3,
  cacheCreation5m: 13_522,
  cacheCreation1h: 0,
  cacheRead: 0,
  webSearchRequests: 0,
};

describe('the interactive adapter on real transcripts', () => {
  let configDir: string;
  let transcript: string;
  let subagent: string;

  beforeEach(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'stratavore-claude-config-'));
    transcript = join(configDir, transcriptRelativePath(CWD, SESSION));
    subagent = join(dirname(transcript), SESSION, 'subagents', 'agent-a2898e3.jsonl');
    mkdirSync(dirname(subagent), { recursive: true });
  });

  afterEach(async () => {
    await rm(configDir, { recursive: true, force: true });
  });

  function source(
    fields: Partial<ConstructorParameters<typeof ClaudeInteractiveUsageSource>[0]> = {},
  ) {
    return new ClaudeInteractiveUsageSource({
      cwd: CWD,
      configDir,
      sessionId: SESSION,
      resumedFrom: null,
      now: () => new Date('2026-11-24T10:00:00Z'),
      ...fields,
    });
  }

  it('counts each response once as the lines arrive, in pieces, with the subagent file', () => {
    const usage = source();
    // Known from the command line before the file exists.
    expect(usage.sessionId()).toBe(SESSION);
    expect(usage.session()).toMatchObject({ sessionId: SESSION, models: {}, turns: 0 });
    expect(usage.session()?.transcriptPath).toBeNull();

    // Up to and with half of line 7: one response so far, the second not yet complete.
    const text = `${MAIN.slice(0, 6).join('\n')}\n${MAIN[6]?.slice(0, 100) ?? ''}`;
    writeFileSync(transcript, text);
    expect(usage.counters()).toEqual({
      inputTokens: 4,
      outputTokens: 19,
      cacheCreationTokens: 20_606,
      cacheReadTokens: 40_951,
    });
    appendFileSync(transcript, `${MAIN[6]?.slice(100) ?? ''}\n${MAIN.slice(7).join('\n')}\n`);
    for (const line of SUBAGENT) appendFileSync(subagent, `${line}\n`);

    expect(usage.counters()).toEqual({
      inputTokens: 7,
      outputTokens: 311,
      cacheCreationTokens: 34_128,
      cacheReadTokens: 40_951,
    });
    const session = usage.session();
    expect(session).toMatchObject({
      sessionId: SESSION,
      models: { [OPUS]: OPUS_TOTAL, [SONNET]: SONNET_TOTAL },
      turns: 2,
      transcriptPath: transcript,
      cwd: CWD,
      reportedCostUsd: null,
      resumedFrom: null,
      waitingForInput: false,
      result: null,
    });
    expect(session?.costUsd).toBeGreaterThan(0);
    expect(session).not.toHaveProperty('activity');

    // The same lines again (a copy of the file, a rewrite) change nothing.
    for (const line of MAIN) appendFileSync(transcript, `${line}\n`);
    expect(usage.counters()).toMatchObject({ inputTokens: 7, outputTokens: 311 });
  });

  it("counts only this runner's part of a resumed session", () => {
    writeFileSync(transcript, `${MAIN.slice(0, 4).join('\n')}\n`);
    const usage = source({ resumedFrom: SESSION });
    expect(usage.counters()).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    });
    appendFileSync(transcript, `${MAIN.slice(4).join('\n')}\n`);
    expect(usage.counters()).toEqual({
      inputTokens: 1,
      outputTokens: 299,
      cacheCreationTokens: 5_601,
      cacheReadTokens: 29_509,
    });
    expect(usage.session()).toMatchObject({ turns: 1, resumedFrom: SESSION });
  });

  it('follows the session a hook names, keeps the old one in the counters, reports activity', () => {
    const usage = source({ sessionId: null });
    const changes: number[] = [];
    usage.onChange(() => changes.push(changes.length));
    expect(usage.session()).toBeUndefined();

    usage.hook({
      hook_event_name: 'SessionStart',
      session_id: SESSION,
      transcript_path: transcript,
      source: 'startup',
    });
    writeFileSync(transcript, `${MAIN.join('\n')}\n`);
    expect(usage.session()).toMatchObject({
      sessionId: SESSION,
      waitingForInput: true,
      activity: { state: 'idle', reason: 'SessionStart' },
    });
    usage.hook({
      hook_event_name: 'Notification',
      session_id: SESSION,
      notification_type: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
    });
    expect(usage.session()).toMatchObject({
      waitingForInput: true,
      activity: { state: 'waiting', message: 'Claude needs your permission to use Bash' },
    });
    usage.hook({ hook_event_name: 'PostToolUse', session_id: SESSION });
    expect(usage.session()?.waitingForInput).toBe(false);

    // `/clear`: a new session, a new file; the counters keep the first one's usage.
    const second = '9e1c5f2b-8a7c-4d40-9b3f-7d0c2a8e3b4f';
    const secondPath = join(configDir, transcriptRelativePath(CWD, second));
    usage.hook({ hook_event_name: 'SessionEnd', session_id: SESSION, reason: 'clear' });
    usage.hook({
      hook_event_name: 'SessionStart',
      session_id: second,
      transcript_path: secondPath,
      source: 'clear',
    });
    writeFileSync(secondPath, `${SUBAGENT.slice(1).join('\n')}\n`);
    expect(usage.sessionId()).toBe(second);
    expect(usage.session()?.models).toEqual({ [SONNET]: SONNET_TOTAL });
    expect(usage.counters()).toEqual({
      inputTokens: 7,
      outputTokens: 311,
      cacheCreationTokens: 34_128,
      cacheReadTokens: 40_951,
    });
    // startup, the wait, working again, the switch to the second session.
    expect(changes).toHaveLength(4);
  });

  it('without a session id or hooks, finds the transcript written since it started', () => {
    const usage = source({ sessionId: null, startedAt: new Date(Date.now() - 1000) });
    expect(usage.sessionId()).toBeNull();
    writeFileSync(transcript, `${MAIN.join('\n')}\n`);
    expect(usage.sessionId()).toBe(SESSION);
    expect(usage.counters().outputTokens).toBe(308);
  });

  it('logs lines it could not read when the run ends', () => {
    const logger = new RecordingLogger();
    const usage = source({ logger });
    writeFileSync(transcript, `{"type":"assistant","message":{"usage":{"input_tokens":-1}}}\n`);
    usage.counters();
    usage.end();
    expect(logger.lines.map((line) => line.message)).toContain(
      'some transcript lines could not be read; their usage is not counted',
    );
  });
});

describe('SessionTranscripts', () => {
  it("puts a fork's parent file into the baseline, so its copies add nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stratavore-fork-'));
    try {
      const parent = join(dir, 'parent.jsonl');
      const fork = join(dir, 'fork.jsonl');
      writeFileSync(parent, `${MAIN.join('\n')}\n`);
      const transcripts = new SessionTranscripts('fork', fork, { baselineFiles: [parent] });
      // The fork's file starts with copies of the parent's responses, then one of its own.
      writeFileSync(fork, `${[...MAIN, ...SUBAGENT].join('\n')}\n`);
      transcripts.refresh();
      expect(transcripts.byModel()).toEqual({
        [SONNET]: {
          usage: {
            inputTokens: 3,
            outputTokens: 3,
            cacheCreation5mTokens: 13_522,
            cacheCreation1hTokens: 0,
            cacheReadTokens: 0,
            webSearchRequests: 0,
          },
          longContextUsage: expect.any(Object) as object,
          responses: 1,
        },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
