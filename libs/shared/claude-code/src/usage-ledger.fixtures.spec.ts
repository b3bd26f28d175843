import { fixtureLines, usage } from './fixtures.test-support';
import { UsageLedger } from './usage-ledger';

/*
 * Every expected figure below was read off the fixture files by hand (the lines are quoted in
 * the comments), never computed by the code under test.
 */

const SHORT = 'transcript_spotter_short_v2.1.38.jsonl';
const SELECTED = 'transcript_spotter_selected_v2.1.39.jsonl';
const SUBAGENT = 'transcript_spotter_subagent_v2.1.39.jsonl';
const ALPHA = 'transcript_ccusage_fixture_project-alpha.jsonl';
const BETA = 'transcript_ccusage_fixture_project-beta.jsonl';

function feed(ledger: UsageLedger, name: string, lines = fixtureLines(name)): UsageLedger {
  for (const line of lines) ledger.addTranscriptLine(line, name);
  return ledger;
}

describe('UsageLedger on the spotter transcripts', () => {
  it('counts the five lines of one response in the short session once', () => {
    // Lines 5, 6, 7, 8 and 10 are all msg_01MKH1ccEGrZGNPvu8pYiiQa / req_011CY15QS2LGwAeBxdfa6e1V
    // with input 3, cache_creation 13835 (all ephemeral_1h), cache_read 11515, output 13.
    // Summing the lines would give 5x every figure.
    const ledger = feed(new UsageLedger(), SHORT);
    const expected = usage({
      inputTokens: 3,
      outputTokens: 13,
      cacheCreation1hTokens: 13_835,
      cacheReadTokens: 11_515,
    });
    expect(ledger.totals()).toEqual(expected);
    expect(ledger.byModel()).toEqual({
      'claude-opus-4-6': { usage: expected, longContextUsage: usage({}), responses: 1 },
    });
    expect(ledger.stats()).toMatchObject({ copies: 5, responses: 1, duplicates: 4, grown: 0 });
    // 1 file-history-snapshot, 3 progress, 4 user, 2 system lines.
    expect(ledger.ignoredLines()).toEqual({
      'file-history-snapshot': 1,
      progress: 3,
      user: 4,
      system: 2,
    });
    expect(ledger.malformed().count).toBe(0);
    expect(ledger.sessionIds()).toEqual(['55604662-cf2a-4331-851a-ec234028f8ca']);
  });

  it('keeps the last, largest copy of msg_01Aci2WjhVxhEoZK5GJvwVrD (output 299, not 10)', () => {
    // Line 4: msg_01PdWvcjJ6E9BgscDveYt9YV: input 3, cache_creation 15005 (5m), read 11442, out 9.
    // Lines 6-10: msg_01Aci2WjhVxhEoZK5GJvwVrD: input 1, cache_creation 5601 (5m), read 29509;
    // output 10 on the first four lines, 299 on the last.
    // Sum: input 3+1=4, output 9+299=308, 5m writes 15005+5601=20606, reads 11442+29509=40951.
    const ledger = feed(new UsageLedger(), SELECTED);
    expect(ledger.totals()).toEqual(
      usage({
        inputTokens: 4,
        outputTokens: 308,
        cacheCreation5mTokens: 20_606,
        cacheReadTokens: 40_951,
      }),
    );
    expect(ledger.stats()).toMatchObject({ copies: 6, responses: 2, duplicates: 3, grown: 1 });
  });

  it('adds a subagent file sharing the parent session id without double counting', () => {
    // Subagent lines 2-3: msg_016xcKQRzQXv2gLKoiSyUZxc, claude-sonnet-4-5-20250929,
    // isSidechain true: input 3, cache_creation 13522 (5m), read 0, output 3.
    const ledger = feed(feed(new UsageLedger(), SELECTED), SUBAGENT);
    expect(ledger.byModel()).toEqual({
      'claude-opus-4-6': {
        usage: usage({
          inputTokens: 4,
          outputTokens: 308,
          cacheCreation5mTokens: 20_606,
          cacheReadTokens: 40_951,
        }),
        longContextUsage: usage({}),
        responses: 2,
      },
      'claude-sonnet-4-5-20250929': {
        usage: usage({ inputTokens: 3, outputTokens: 3, cacheCreation5mTokens: 13_522 }),
        longContextUsage: usage({}),
        responses: 1,
      },
    });
    expect(ledger.sidechainTotals()).toEqual(
      usage({ inputTokens: 3, outputTokens: 3, cacheCreation5mTokens: 13_522 }),
    );
    expect(ledger.sessionIds()).toEqual(['4d5611e5-241a-462a-8d15-5122611a9569']);
    expect(ledger.stats().sidechainResponses).toBe(1);
  });

  it('counts a subagent response once when the parent file carries a main-chain copy too', () => {
    // Older Claude Code versions also wrote subagent messages into the parent file; the copy
    // there is the same response. On a tie the main-chain copy is the one kept (ccusage).
    const sidechainLines = fixtureLines(SUBAGENT);
    const parentCopies = sidechainLines.slice(1).map((line) => {
      const value = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify({ ...value, isSidechain: false, agentId: undefined });
    });
    const ledger = feed(new UsageLedger(), SUBAGENT, sidechainLines);
    feed(ledger, 'parent.jsonl', parentCopies);
    expect(ledger.totals()).toEqual(
      usage({ inputTokens: 3, outputTokens: 3, cacheCreation5mTokens: 13_522 }),
    );
    expect(ledger.stats()).toMatchObject({ responses: 1, sidechainResponses: 0 });
    expect(ledger.sidechainTotals()).toEqual(usage({}));
  });

  it('is idempotent: the same files again (a resumed session) and in reverse order change nothing', () => {
    const once = feed(feed(new UsageLedger(), SELECTED), SUBAGENT);
    const again = feed(feed(feed(feed(new UsageLedger(), SUBAGENT), SELECTED), SELECTED), SUBAGENT);
    const reversed = new UsageLedger();
    for (const line of [...fixtureLines(SELECTED), ...fixtureLines(SUBAGENT)].reverse()) {
      reversed.addTranscriptLine(line);
    }
    expect(again.byModel()).toEqual(once.byModel());
    expect(reversed.byModel()).toEqual(once.byModel());
  });
});

describe('UsageLedger on the ccusage fixtures', () => {
  it('sums three distinct responses of two models (lines without a type field)', () => {
    // msg-alpha-1 sonnet-4: in 100, out 50, cache_creation 25, read 10
    // msg-alpha-2 opus-4:   in 200, out 75, cache_creation 50, read 20 (speed "fast")
    // msg-alpha-3 sonnet-4: in 300, out 125, cache_creation 0, read 40
    // No cache_creation split: every write counts as 5-minute.
    const ledger = feed(new UsageLedger(), ALPHA);
    expect(ledger.byModel()).toEqual({
      'claude-sonnet-4-20250514': {
        usage: usage({
          inputTokens: 400,
          outputTokens: 175,
          cacheCreation5mTokens: 25,
          cacheReadTokens: 50,
        }),
        longContextUsage: usage({}),
        responses: 2,
      },
      'claude-opus-4-20250514': {
        usage: usage({
          inputTokens: 200,
          outputTokens: 75,
          cacheCreation5mTokens: 50,
          cacheReadTokens: 20,
        }),
        longContextUsage: usage({}),
        responses: 1,
      },
    });
  });

  it('keeps sessions apart and sums across files', () => {
    // beta: haiku-4-5 msg-beta-1 (50/25/5/15) and msg-beta-2 (80/35/10/25).
    const ledger = feed(feed(new UsageLedger(), ALPHA), BETA);
    expect(ledger.byModel()['claude-haiku-4-5-20251001']?.usage).toEqual(
      usage({ inputTokens: 130, outputTokens: 60, cacheCreation5mTokens: 15, cacheReadTokens: 40 }),
    );
    // alpha 400+200 = 600 input, beta 130: 730.
    expect(ledger.totals().inputTokens).toBe(730);
    expect(ledger.sessionIds().sort()).toEqual(['session-alpha', 'session-beta']);
  });
});

describe('UsageLedger with malformed lines', () => {
  it('reports a bad line with its number and keeps counting the rest', () => {
    const lines = fixtureLines(SHORT);
    lines.splice(4, 0, '{"type":"assistant","message":{"id":"msg_x","usage":{"input_tokens":"3"');
    lines.splice(6, 0, '[1,2]');
    lines.splice(
      8,
      0,
      JSON.stringify({
        type: 'assistant',
        message: { id: 'm', usage: { input_tokens: -1, output_tokens: 2 } },
      }),
    );
    lines.push('');
    const ledger = feed(new UsageLedger(), SHORT, lines);
    expect(ledger.totals().outputTokens).toBe(13);
    const malformed = ledger.malformed();
    expect(malformed.count).toBe(3);
    expect(malformed.first.map((line) => [line.origin, line.lineNumber])).toEqual([
      [SHORT, 5],
      [SHORT, 7],
      [SHORT, 9],
    ]);
    expect(malformed.first[0]?.reason).toMatch(/^not JSON/);
    expect(malformed.first[1]?.reason).toMatch(/^not a JSON object/);
    expect(malformed.first[2]?.reason).toBe(
      'assistant line: message.usage.input_tokens: Too small: expected number to be >=0',
    );
  });
});
