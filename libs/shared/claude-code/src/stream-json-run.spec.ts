import { costOf } from './cost';
import { fixtureLines, usage } from './fixtures.test-support';
import { StreamJsonRun, type StreamJsonRunOptions } from './stream-json-run';

/*
 * Expected figures are read off the fixture lines by hand (quoted in comments); costs are worked
 * out from the list prices by hand and compared with what Claude Code itself reported.
 */

function run(lines: readonly string[], options?: StreamJsonRunOptions, end = true): StreamJsonRun {
  const result = new StreamJsonRun(options);
  for (const line of lines) result.feedLine(line);
  if (end) result.end();
  return result;
}

const json = (value: unknown) => JSON.stringify(value);
const INIT = json({
  type: 'system',
  subtype: 'init',
  session_id: 'sess-1',
  model: 'claude-sonnet-4-5-20250929',
});
const assistant = (
  id: string,
  usage: Record<string, unknown>,
  text = 'ok',
  model = 'claude-sonnet-4-5-20250929',
) =>
  json({
    type: 'assistant',
    message: { id, model, role: 'assistant', content: [{ type: 'text', text }], usage },
    parent_tool_use_id: null,
    session_id: 'sess-1',
  });
const result = (fields: Record<string, unknown>) =>
  json({ type: 'result', session_id: 'sess-1', num_turns: 1, ...fields });

describe('StreamJsonRun on recorded stream-json', () => {
  it('reads the basic query (CLI 2.1.7): session, model, turns, cost and the final output', () => {
    const basic = run(fixtureLines('stream-json_gleam_basic_query_v2.1.7.jsonl'));
    expect(basic.sessionId()).toBe('1d1e46f9-35c7-4834-b529-846d5bb82288');
    expect(basic.model()).toBe('claude-opus-4-5-20251101');
    expect(basic.init()?.claude_code_version).toBe('2.1.7');
    expect(basic.turns()).toBe(1);
    expect(basic.outcome()).toEqual({
      kind: 'success',
      resumable: false,
      resetsAt: null,
      subtype: 'success',
      isError: false,
    });
    // The assistant event says output 5; the result's usage says 25 (the final count).
    expect(basic.ledger.totals()).toEqual(
      usage({ inputTokens: 10, cacheCreation5mTokens: 21_570, outputTokens: 5 }),
    );
    const final = usage({ inputTokens: 10, cacheCreation5mTokens: 21_570, outputTokens: 25 });
    expect(basic.finalTotals()).toEqual(final);
    expect(basic.reported()).toEqual({ totalCostUsd: 0.1354875, usage: final, models: null });
    // 10 x 5 + 21570 x 6.25 + 25 x 25 = 135487.5 -> the CLI's own total_cost_usd.
    expect(costOf(basic.finalUsageByModel()).totalUsd).toBe(0.1354875);
  });

  it('takes modelUsage (CLI 2.1.3) as the final figure and prices it as Claude Code did', () => {
    const turn = run(fixtureLines('stream-json_gleam_turn_v2.1.3.jsonl'));
    expect(turn.sessionId()).toBe('40e7b02d-c0f9-4876-9010-f514d4eb0603');
    expect(turn.turns()).toBe(2);
    // The one assistant event: input 10, 5m writes 3556, reads 17254, output 4.
    expect(turn.ledger.totals()).toEqual(
      usage({
        inputTokens: 10,
        cacheCreation5mTokens: 3_556,
        cacheReadTokens: 17_254,
        outputTokens: 4,
      }),
    );
    // modelUsage: input 38, output 765, cache reads 28775, cache writes 31159, costUSD 0.22844625.
    const modelUsage = usage({
      inputTokens: 38,
      outputTokens: 765,
      cacheReadTokens: 28_775,
      cacheCreation5mTokens: 31_159,
    });
    expect(turn.reported()?.models).toEqual({
      'claude-opus-4-5-20251101': { usage: modelUsage, costUsd: 0.22844625 },
    });
    expect(turn.reported()?.totalCostUsd).toBe(0.24722425);
    expect(turn.reported()?.usage).toEqual(
      usage({
        inputTokens: 18,
        cacheCreation5mTokens: 25_067,
        cacheReadTokens: 17_254,
        outputTokens: 424,
      }),
    );
    expect(turn.finalUsageByModel()).toEqual({
      'claude-opus-4-5-20251101': { usage: modelUsage, longContextUsage: usage({}) },
    });
    // 38 x 5 + 765 x 25 + 28775 x 0.5 + 31159 x 6.25 = 228446.25 -> exactly the CLI's costUSD.
    expect(costOf(turn.finalUsageByModel()).models['claude-opus-4-5-20251101']?.usd).toBe(
      0.22844625,
    );
  });

  it('counts turns from the responses when the result has no num_turns; unknown model costs null', () => {
    const sample = run(fixtureLines('stream-json_claude-code-action_sample-turns.jsonl'));
    expect(sample.sessionId()).toBe('sample-session-id');
    expect(sample.model()).toBe('claude-test-model');
    expect(sample.turns()).toBe(4);
    // msg_sample123..126: input 100+200+150+180, output 75+50+80+60, reads 50+100+75+90.
    expect(sample.finalTotals()).toEqual(
      usage({ inputTokens: 630, outputTokens: 265, cacheReadTokens: 315 }),
    );
    expect(sample.outcome()?.kind).toBe('success');
    expect(sample.reported()?.totalCostUsd).toBe(0.0347);
    const cost = costOf(sample.finalUsageByModel());
    expect(cost.totalUsd).toBeNull();
    expect(cost.unknownModels).toEqual(['claude-test-model']);
  });

  it('reads rate_limit_event and modelUsage of the SDK test shapes, ignoring unknown events', () => {
    const sdk = run(fixtureLines('stream-json_sdk-python_parser-tests.jsonl'));
    expect(sdk.lastRateLimit()).toMatchObject({
      status: 'allowed_warning',
      resetsAt: 1_700_000_000,
    });
    expect(sdk.usageLimit()).toBeNull();
    expect(sdk.outcome()?.kind).toBe('success');
    expect(sdk.sessionId()).toBe('fdf2d90a-fd9e-4736-ae35-806edd13643f');
    expect(sdk.finalUsageByModel()).toEqual({
      'claude-sonnet-4-5-20250929': {
        usage: usage({ inputTokens: 3, outputTokens: 24, cacheReadTokens: 20_012 }),
        longContextUsage: usage({}),
      },
    });
    expect(sdk.ledger.ignoredLines()).toEqual({ conversation_reset: 1 });
    expect(sdk.ledger.malformed().count).toBe(0);
  });
});

describe('StreamJsonRun outcomes', () => {
  it('is null while the run goes on, incomplete when the stream ends without a result', () => {
    const open = run([INIT, assistant('m1', { input_tokens: 1, output_tokens: 1 })], {}, false);
    expect(open.outcome()).toBeNull();
    open.end();
    expect(open.outcome()).toMatchObject({ kind: 'incomplete', resumable: false, isError: true });
  });

  it.each([
    ['error_max_turns', 'max_turns', true],
    ['error_max_budget_usd', 'max_budget', true],
    ['error_during_execution', 'error', false],
  ] as const)('maps %s to %s (resumable %s)', (subtype, kind, resumable) => {
    const ended = run([INIT, result({ subtype, is_error: true })]);
    expect(ended.outcome()).toEqual({ kind, resumable, resetsAt: null, subtype, isError: true });
  });

  it('detects the usage-limit notice of a synthetic message and the result, with the reset time', () => {
    const notice = 'Claude AI usage limit reached|1750003200';
    const limited = run([
      INIT,
      assistant('synthetic-1', { input_tokens: 0, output_tokens: 0 }, notice, '<synthetic>'),
      result({ subtype: 'success', is_error: true, result: notice }),
    ]);
    expect(limited.outcome()).toEqual({
      kind: 'usage_limit',
      resumable: true,
      resetsAt: new Date('2025-06-15T16:00:00Z'),
      subtype: 'success',
      isError: true,
    });
    // The synthetic message is not an API response: no model, no turn.
    expect(limited.ledger.byModel()).toEqual({});
  });

  it('takes a rejected rate_limit_event before an error result as a usage limit', () => {
    const limited = run([
      INIT,
      json({
        type: 'rate_limit_event',
        rate_limit_info: {
          status: 'rejected',
          resetsAt: 1_750_003_200,
          rateLimitType: 'five_hour',
        },
      }),
      result({ subtype: 'error_during_execution', is_error: true }),
    ]);
    expect(limited.outcome()).toMatchObject({
      kind: 'usage_limit',
      resumable: true,
      resetsAt: new Date('2025-06-15T16:00:00Z'),
    });
    expect(limited.usageLimit()).toEqual({
      resetsAt: new Date('2025-06-15T16:00:00Z'),
      source: 'rate_limit_event',
      rateLimitType: 'five_hour',
    });
  });

  it('lets a successful result win over an earlier rejection, and ignores the words in plain answers', () => {
    const recovered = run([
      INIT,
      json({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: 1 } }),
      assistant('m1', { input_tokens: 1, output_tokens: 1 }, 'The usage limit reached its cap.'),
      result({ subtype: 'success', is_error: false, result: 'done' }),
    ]);
    expect(recovered.outcome()?.kind).toBe('success');
  });
});

describe('StreamJsonRun usage figures', () => {
  it('does not merge the result figures of a resumed process whose CLI restores earlier totals', () => {
    const lines = [
      INIT,
      assistant('m1', { input_tokens: 10, output_tokens: 2 }),
      result({
        subtype: 'success',
        is_error: false,
        total_cost_usd: 9.99,
        modelUsage: {
          'claude-sonnet-4-5-20250929': { inputTokens: 5000, outputTokens: 900, costUSD: 9.99 },
        },
      }),
    ];
    const resumed = run(lines, { resumed: true });
    expect(resumed.finalTotals()).toEqual(usage({ inputTokens: 10, outputTokens: 2 }));
    expect(resumed.reported()?.models?.['claude-sonnet-4-5-20250929']?.usage.inputTokens).toBe(
      5000,
    );
    expect(run(lines).finalTotals()).toEqual(usage({ inputTokens: 5000, outputTokens: 900 }));
    // A version before 2.1.277 counts the resumed process only: its figures are merged.
    const olderInit = json({ ...(JSON.parse(INIT) as object), claude_code_version: '2.1.112' });
    const older = run([olderInit, ...lines.slice(1)], { resumed: true });
    expect(older.reportedCoversThisProcessOnly()).toBe(true);
    expect(older.finalTotals()).toEqual(usage({ inputTokens: 5000, outputTokens: 900 }));
    const newer = json({ ...(JSON.parse(INIT) as object), claude_code_version: '2.10.3' });
    expect(run([newer, ...lines.slice(1)], { resumed: true }).reportedCoversThisProcessOnly()).toBe(
      false,
    );
  });

  it('takes the final output of each response from partial messages (message_delta)', () => {
    const partial = (event: Record<string, unknown>) =>
      json({ type: 'stream_event', event, parent_tool_use_id: null, session_id: 'sess-1' });
    const ended = run(
      [
        INIT,
        partial({
          type: 'message_start',
          message: {
            id: 'msg_p',
            model: 'claude-sonnet-4-5-20250929',
            usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 100 },
          },
        }),
        partial({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'hi' },
        }),
        assistant('msg_p', { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 100 }),
        partial({
          type: 'message_delta',
          delta: { stop_reason: 'end_turn' },
          usage: { output_tokens: 42 },
        }),
      ],
      { resumed: true },
    );
    expect(ended.finalTotals()).toEqual(
      usage({ inputTokens: 12, cacheReadTokens: 100, outputTokens: 42 }),
    );
    expect(ended.turns()).toBe(1);
  });

  it('reports a malformed line with its number and goes on', () => {
    const ended = run([
      INIT,
      'Warning: something printed on stdout',
      assistant('m1', { input_tokens: 'many', output_tokens: 1 }),
      assistant('m2', { input_tokens: 7, output_tokens: 1 }),
      result({ subtype: 'success', is_error: false, usage: { input_tokens: 'x' } }),
    ]);
    expect(ended.ledger.malformed().first.map((line) => line.lineNumber)).toEqual([2, 3]);
    expect(ended.ledger.malformed().first[0]).toMatchObject({
      source: 'stream-json',
      origin: 'stdout',
    });
    expect(ended.ledger.totals().inputTokens).toBe(7);
    expect(ended.issues()).toEqual([
      'result.usage: input_tokens: Invalid input: expected number, received string; output_tokens: Invalid input: expected number, received undefined',
    ]);
    expect(ended.outcome()?.kind).toBe('success');
  });
});
