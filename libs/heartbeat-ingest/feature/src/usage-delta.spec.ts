import { ZERO_HEARTBEAT_COUNTERS } from '@stratavore/contracts';

import { computeUsageDelta, hasUsage } from './usage-delta';

const counters = (input: number, output: number, creation = 0, read = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cacheCreationTokens: creation,
  cacheReadTokens: read,
});

describe('computeUsageDelta', () => {
  it('books the growth of every counter since the last record', () => {
    const result = computeUsageDelta(counters(100, 50, 10, 5), counters(160, 80, 10, 25));
    expect(result.delta).toEqual(counters(60, 30, 0, 20));
    expect(result.base).toEqual(counters(160, 80, 10, 25));
    expect(result.resets).toEqual([]);
  });

  it('books nothing for a repeated report', () => {
    const result = computeUsageDelta(counters(100, 50), counters(100, 50));
    expect(hasUsage(result.delta)).toBe(false);
  });

  it('covers a lost report with the next one', () => {
    const first = computeUsageDelta(ZERO_HEARTBEAT_COUNTERS, counters(10, 1));
    // the report carrying (20, 2) was lost
    const third = computeUsageDelta(first.base, counters(30, 3));
    expect(first.delta.inputTokens + third.delta.inputTokens).toBe(30);
    expect(first.delta.outputTokens + third.delta.outputTokens).toBe(3);
  });

  it('treats a counter that went down as a reset: no negative usage, new base', () => {
    const result = computeUsageDelta(counters(500, 50), counters(20, 70));
    expect(result.delta).toEqual(counters(0, 20));
    expect(result.base).toEqual(counters(20, 70));
    expect(result.resets).toEqual(['inputTokens']);
    const next = computeUsageDelta(result.base, counters(45, 70));
    expect(next.delta).toEqual(counters(25, 0));
  });
});
