import { type ApiResponseCopy } from './api-response';
import { usage } from './fixtures.test-support';
import { type TokenUsage } from './token-usage';
import { UsageLedger } from './usage-ledger';

function copy(overrides: Partial<ApiResponseCopy> & { usage: TokenUsage }): ApiResponseCopy {
  return {
    messageId: 'msg_1',
    requestId: 'req_1',
    model: 'claude-sonnet-4-5-20250929',
    sidechain: false,
    agentId: null,
    sessionId: 's1',
    timestamp: null,
    lineId: null,
    ...overrides,
  };
}

describe('UsageLedger.record', () => {
  it('grows by the difference only when a bigger copy of a response arrives', () => {
    const ledger = new UsageLedger();
    const first = ledger.record(copy({ usage: usage({ inputTokens: 5, outputTokens: 10 }) }));
    const last = ledger.record(copy({ usage: usage({ inputTokens: 5, outputTokens: 299 }) }));
    const stale = ledger.record(copy({ usage: usage({ inputTokens: 5, outputTokens: 10 }) }));
    expect([first.kind, last.kind, stale.kind]).toEqual(['new', 'grown', 'duplicate']);
    expect(first.delta).toEqual(usage({ inputTokens: 5, outputTokens: 10 }));
    expect(last.delta).toEqual(usage({ outputTokens: 289 }));
    expect(stale.delta).toEqual(usage({}));
    expect(ledger.totals()).toEqual(usage({ inputTokens: 5, outputTokens: 299 }));
  });

  it('tells responses apart by request id, and matches a copy without one to any', () => {
    const ledger = new UsageLedger();
    ledger.record(copy({ requestId: null, usage: usage({ outputTokens: 5 }) }));
    // The transcript copy of the same response names its request: same response, grown.
    expect(
      ledger.record(copy({ requestId: 'req_1', usage: usage({ outputTokens: 25 }) })).kind,
    ).toBe('grown');
    // The same message id with another request id is another response.
    expect(
      ledger.record(copy({ requestId: 'req_2', usage: usage({ outputTokens: 7 }) })).kind,
    ).toBe('new');
    expect(ledger.totals().outputTokens).toBe(32);
    expect(ledger.stats().responses).toBe(2);
  });

  it('identifies a copy without a message id by its line uuid, else counts it each time', () => {
    const ledger = new UsageLedger();
    const noId = { messageId: null, requestId: null };
    ledger.record(copy({ ...noId, lineId: 'u1', usage: usage({ inputTokens: 1 }) }));
    ledger.record(copy({ ...noId, lineId: 'u1', usage: usage({ inputTokens: 1 }) }));
    ledger.record(copy({ ...noId, usage: usage({ inputTokens: 10 }) }));
    ledger.record(copy({ ...noId, usage: usage({ inputTokens: 10 }) }));
    expect(ledger.totals().inputTokens).toBe(21);
    expect(ledger.stats()).toMatchObject({ responses: 3, unidentified: 2 });
  });

  it('never lowers a kind: conflicting copies keep the larger value of each', () => {
    const ledger = new UsageLedger();
    ledger.record(copy({ usage: usage({ inputTokens: 100, outputTokens: 1 }) }));
    const result = ledger.record(copy({ usage: usage({ inputTokens: 90, outputTokens: 50 }) }));
    expect(result.kind).toBe('conflict');
    expect(result.delta).toEqual(usage({ outputTokens: 49 }));
    expect(ledger.totals()).toEqual(usage({ inputTokens: 100, outputTokens: 50 }));
    expect(ledger.stats().conflicts).toBe(1);
  });

  it('prefers the main-chain copy on a tie, without changing the totals', () => {
    const ledger = new UsageLedger();
    const same = usage({ inputTokens: 3, outputTokens: 3 });
    ledger.record(copy({ sidechain: true, agentId: 'a1', usage: same }));
    expect(ledger.sidechainTotals()).toEqual(same);
    const result = ledger.record(copy({ sidechain: false, usage: same }));
    expect(result).toEqual({ kind: 'duplicate', delta: usage({}) });
    expect(ledger.totals()).toEqual(same);
    expect(ledger.sidechainTotals()).toEqual(usage({}));
  });

  it('ignores the zero usage of synthetic messages and files unnamed models under <unknown>', () => {
    const ledger = new UsageLedger();
    expect(ledger.record(copy({ model: '<synthetic>', usage: usage({}) })).kind).toBe('ignored');
    ledger.record(copy({ messageId: 'm2', model: null, usage: usage({ inputTokens: 4 }) }));
    expect(Object.keys(ledger.byModel())).toEqual(['<unknown>']);
  });

  it('puts the responses of prompts above 200,000 tokens in the long-context part', () => {
    const ledger = new UsageLedger();
    // 1 + 0 + 200,000 = 200,001 prompt tokens: long context.
    const long = usage({ inputTokens: 1, cacheReadTokens: 200_000, outputTokens: 10 });
    // 200,000 exactly is not above the threshold.
    const standard = usage({
      inputTokens: 100_000,
      cacheCreation5mTokens: 100_000,
      outputTokens: 5,
    });
    ledger.record(copy({ messageId: 'long', usage: long }));
    ledger.record(copy({ messageId: 'std', usage: standard }));
    const totals = ledger.byModel()['claude-sonnet-4-5-20250929'];
    expect(totals?.longContextUsage).toEqual(long);
    expect(totals?.usage).toEqual(
      usage({
        inputTokens: 100_001,
        cacheCreation5mTokens: 100_000,
        cacheReadTokens: 200_000,
        outputTokens: 15,
      }),
    );
  });
});
