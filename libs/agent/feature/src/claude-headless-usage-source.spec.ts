import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  type HeartbeatAnswer,
  type HeartbeatRequest,
  heartbeatRequestSchema,
} from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';

import {
  FakeChild,
  FakeLauncher,
  FixedSampler,
  ManualScheduler,
  RecordingLogger,
  ScriptedHeartbeatClient,
} from './agent-fakes.test-support';
import { type ClaudeHeadlessCommand } from './claude-command';
import { ClaudeHeadlessUsageSource } from './claude-headless-usage-source';
import { type AgentOutcome, RunnerSupervisor } from './runner-supervisor';

const RUNNER_ID = '22222222-2222-4222-8222-222222222222';
const SESSION_ID = '5f0c2a8e-3b1d-4c52-9e7a-0d6b1f4a9c21';
const CONTINUE: HeartbeatAnswer = { desiredState: 'continue', intervalMs: 1_000 };
const TRANSCRIPT = `/home/agent/.claude/projects/-work-project/${SESSION_ID}.jsonl`;

/*
 * The recording (fixtures/claude-headless-run.jsonl, see its README) and what it adds up to, by
 * hand:
 *   line 1  system/init, session 5f0c2a8e-..., claude-sonnet-4-5-20250929, cwd /work/project
 *   line 2  msg_...AAA text block:  input 3, 5m writes 2000, reads 10000, output 2
 *   line 3  msg_...AAA tool use:    the same response again (counted once)
 *   line 4  user tool result
 *   line 5  msg_...BBB text:        input 5, 5m writes 300, reads 12000, output 40
 *   line 6  result: num_turns 2, total_cost_usd 0.017569, modelUsage
 *             sonnet-4-5: input 8, output 128, reads 22000, writes 2300
 *             haiku-4-5:  input 300, output 20
 * Stream figures after line 5: input 3+5 = 8, output 2+40 = 42, writes 2300, reads 22000.
 * Final figures (modelUsage): input 8+300 = 308, output 128+20 = 148, writes 2300, reads 22000.
 * Cost at list prices: sonnet 8x3 + 128x15 + 22000x0.3 + 2300x3.75 = 17169 -> $0.017169;
 * haiku 300x1 + 20x5 = 400 -> $0.0004; total $0.017569 (what the CLI reported).
 * After line 5 only: 8x3 + 42x15 + 22000x0.3 + 2300x3.75 = 15879 -> $0.015879.
 */
const RECORDING = readFileSync(join(__dirname, 'fixtures', 'claude-headless-run.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line !== '');

/** A child that writes the recorded stdout into the adapter, as the launcher's tee would. */
class RecordedClaudeChild extends FakeChild {
  private next = 0;

  constructor(
    private readonly stdout: ClaudeHeadlessUsageSource,
    private readonly lines: readonly string[],
  ) {
    super(4242);
  }

  write(count: number): void {
    for (const line of this.lines.slice(this.next, this.next + count)) this.stdout.line(line);
    this.next += count;
  }

  finish(code: number): void {
    this.write(this.lines.length - this.next);
    this.stdout.end();
    this.exit({ code, signal: null });
  }
}

function setUp(
  command: ClaudeHeadlessCommand = { resumed: false, resumedFrom: null },
  lines: readonly string[] = RECORDING,
) {
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  const scheduler = new ManualScheduler(clock);
  const client = new ScriptedHeartbeatClient(() => CONTINUE);
  const located: string[] = [];
  const usage = new ClaudeHeadlessUsageSource({
    command,
    cwd: '/launch/cwd',
    locateTranscript: (cwd, sessionId) => {
      located.push(`${cwd} ${sessionId}`);
      return TRANSCRIPT;
    },
  });
  const child = new RecordedClaudeChild(usage, lines);
  let outcome: AgentOutcome | undefined;
  void new RunnerSupervisor(
    {
      runnerId: RUNNER_ID,
      command: ['claude', '-p', 'list the files', '--output-format', 'stream-json', '--verbose'],
      agentVersion: '0.1.0',
      intervalMs: 1_000,
      stopTimeoutMs: 10_000,
      finalReportTimeoutMs: 60_000,
    },
    {
      client,
      launcher: new FakeLauncher(child),
      sampler: new FixedSampler(),
      usage,
      clock,
      scheduler,
      random: () => 0.5,
      logger: new RecordingLogger(),
    },
  )
    .run()
    .then((result) => (outcome = result));
  return { scheduler, client, child, usage, located, outcome: () => outcome };
}

function expectValid(bodies: readonly HeartbeatRequest[]): void {
  for (const body of bodies) expect(heartbeatRequestSchema.safeParse(body).error).toBeUndefined();
}

describe('ClaudeHeadlessUsageSource under the supervisor, fed a recorded stream-json run', () => {
  it('reports the session id, growing counters and the session snapshot, then the final figures', async () => {
    const t = setUp();
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    // Nothing read yet: no session, zero counters, no snapshot.
    expect(t.client.bodies[0]).toMatchObject({ sessionId: null, counters: { inputTokens: 0 } });
    expect(t.client.bodies[0]).not.toHaveProperty('session');

    t.child.write(1);
    await t.scheduler.runUntil(() => t.client.bodies.length === 2);
    expect(t.client.bodies[1]?.sessionId).toBe(SESSION_ID);
    expect(t.client.bodies[1]?.session).toMatchObject({
      sessionId: SESSION_ID,
      models: {},
      turns: 0,
    });

    t.child.write(4);
    await t.scheduler.runUntil(() => t.client.bodies.length === 3);
    expect(t.client.bodies[2]?.counters).toEqual({
      inputTokens: 8,
      outputTokens: 42,
      cacheCreationTokens: 2_300,
      cacheReadTokens: 22_000,
    });
    expect(t.client.bodies[2]?.session).toMatchObject({
      turns: 2,
      costUsd: 0.015879,
      reportedCostUsd: null,
      result: null,
    });

    t.child.finish(0);
    await t.scheduler.runUntil(() => t.outcome() !== undefined);
    const final = t.client.bodies.at(-1);
    expect(final?.status).toBe('exited');
    expect(final?.counters).toEqual({
      inputTokens: 308,
      outputTokens: 148,
      cacheCreationTokens: 2_300,
      cacheReadTokens: 22_000,
    });
    expect(final?.session).toEqual({
      sessionId: SESSION_ID,
      models: {
        'claude-sonnet-4-5-20250929': {
          input: 8,
          output: 128,
          cacheCreation5m: 2_300,
          cacheCreation1h: 0,
          cacheRead: 22_000,
          webSearchRequests: 0,
        },
        'claude-haiku-4-5-20251001': {
          input: 300,
          output: 20,
          cacheCreation5m: 0,
          cacheCreation1h: 0,
          cacheRead: 0,
          webSearchRequests: 0,
        },
      },
      turns: 2,
      costUsd: 0.017569,
      reportedCostUsd: 0.017569,
      cwd: '/work/project',
      transcriptPath: TRANSCRIPT,
      resumedFrom: null,
      waitingForInput: false,
      result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
    });
    expectValid(t.client.bodies);
    // Every counter only grew from one heartbeat to the next.
    for (const [previous, next] of t.client.bodies
      .slice(1)
      .map((b, i) => [t.client.bodies[i], b])) {
      for (const kind of [
        'inputTokens',
        'outputTokens',
        'cacheCreationTokens',
        'cacheReadTokens',
      ] as const) {
        expect(next?.counters[kind]).toBeGreaterThanOrEqual(previous?.counters[kind] ?? 0);
      }
    }
    // The transcript is looked for under the session's own cwd, once found it is kept.
    expect(t.located).toEqual([`/work/project ${SESSION_ID}`]);
  });

  it('reports a usage-limit stop as resumable, with the reset time', async () => {
    const lines = [
      RECORDING[0] as string,
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: true,
        num_turns: 0,
        result: 'Claude AI usage limit reached|1750003200',
        session_id: SESSION_ID,
        total_cost_usd: 0,
      }),
    ];
    const t = setUp({ resumed: true, resumedFrom: SESSION_ID }, lines);
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    t.child.finish(1);
    await t.scheduler.runUntil(() => t.outcome() !== undefined);
    expect(t.client.bodies.at(-1)?.session).toMatchObject({
      resumedFrom: SESSION_ID,
      result: {
        subtype: 'success',
        isError: true,
        resumable: true,
        resumeAt: '2025-06-15T16:00:00.000Z',
      },
    });
    expectValid(t.client.bodies);
  });

  it('ends as incomplete when the CLI dies without a result, keeping what it streamed', async () => {
    const t = setUp({ resumed: false, resumedFrom: null }, RECORDING.slice(0, 5));
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    t.child.finish(137);
    await t.scheduler.runUntil(() => t.outcome() !== undefined);
    const final = t.client.bodies.at(-1);
    expect(final?.counters.outputTokens).toBe(42);
    expect(final?.session?.result).toEqual({
      subtype: 'incomplete',
      isError: true,
      resumable: false,
      resumeAt: null,
    });
    expectValid(t.client.bodies);
  });
});

describe('ClaudeHeadlessUsageSource counters', () => {
  it('never go down, even if a later figure is smaller', () => {
    const source = new ClaudeHeadlessUsageSource({
      command: { resumed: false, resumedFrom: null },
      cwd: '/w',
    });
    const result = (output: number) =>
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        session_id: 's',
        modelUsage: { 'claude-haiku-4-5': { inputTokens: 1, outputTokens: output } },
      });
    source.line(result(500));
    expect(source.counters().outputTokens).toBe(500);
    source.line(result(20));
    expect(source.counters().outputTokens).toBe(500);
  });
});
