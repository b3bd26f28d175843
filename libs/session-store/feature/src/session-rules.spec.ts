import { type HeartbeatSession, type ModelUsage } from '@stratavore/contracts';
import { type RunRecord, type SessionRecord } from '@stratavore/session-store-data-access';

import { listPriceWeights } from './price-weights';
import {
  applySnapshot,
  type PriceWeights,
  sessionState,
  sessionTokens,
  type Snapshot,
  splitCost,
} from './session-rules';

const R1 = '11111111-1111-4111-8111-111111111111';
const R2 = '11111111-1111-4111-8111-222222222222';
const P = '22222222-2222-4222-8222-222222222222';
const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const usage = (input: number, output: number, cacheRead = 0): ModelUsage => ({
  input,
  output,
  cacheCreation5m: 0,
  cacheCreation1h: 0,
  cacheRead,
  webSearchRequests: 0,
});

/** Weights by output tokens only: easy to reason about in tests. */
const byOutput: PriceWeights = (models) =>
  Object.fromEntries(Object.entries(models).map(([m, t]) => [m, t.output]));

function session(overrides: Partial<HeartbeatSession> = {}): HeartbeatSession {
  return {
    sessionId: 'sess-1',
    models: { sonnet: usage(100, 10) },
    turns: 1,
    costUsd: 1,
    reportedCostUsd: null,
    cwd: '/srv/app',
    transcriptPath: '/home/u/.claude/projects/x/sess-1.jsonl',
    resumedFrom: null,
    waitingForInput: false,
    result: null,
    ...overrides,
  };
}

function snapshot(overrides: Partial<Snapshot> = {}, s: Partial<HeartbeatSession> = {}): Snapshot {
  return { runnerId: R1, projectId: P, seq: 1, observedAt: T0, session: session(s), ...overrides };
}

type State = { session: SessionRecord; runs: RunRecord[] } | null;

function apply(state: State, snap: Snapshot, ended: string[] = []) {
  const outcome = applySnapshot(state, snap, new Set(ended), byOutput);
  if (!outcome.applied) return { outcome, state };
  const runs = state
    ? state.runs.some((r) => r.runnerId === outcome.run.runnerId)
      ? state.runs.map((r) => (r.runnerId === outcome.run.runnerId ? outcome.run : r))
      : [...state.runs, outcome.run]
    : [outcome.run];
  return { outcome, state: { session: outcome.session, runs } };
}

describe('applySnapshot', () => {
  it('creates a session from its first snapshot and books the growth for the day', () => {
    const { outcome } = apply(null, snapshot());
    expect(outcome).toMatchObject({ applied: true, created: true, ended: null });
    if (!outcome.applied) throw new Error('not applied');
    expect(outcome.session).toMatchObject({
      id: 'sess-1',
      projectId: P,
      firstRunnerId: R1,
      startedAt: T0,
      lastSeenAt: T0,
      endedAt: null,
      turns: 1,
      costUsd: 1,
      tokens: usage(100, 10),
    });
    expect(outcome.usage).toEqual([
      { day: '2026-03-01', projectId: P, model: 'sonnet', tokens: usage(100, 10), costUsd: 1 },
    ]);
  });

  it('ignores a snapshot not newer than the run has, so redeliveries and reorderings change nothing', () => {
    const first = apply(null, snapshot({ seq: 5 }));
    expect(applySnapshot(first.state, snapshot({ seq: 5 }), new Set(), byOutput)).toEqual({
      applied: false,
    });
    expect(
      applySnapshot(first.state, snapshot({ seq: 4 }, { turns: 9 }), new Set(), byOutput),
    ).toEqual({ applied: false });
  });

  it('books only the growth of a newer cumulative snapshot; a lost one is covered', () => {
    const first = apply(null, snapshot({ seq: 1 }));
    // seq 2 was lost
    const third = apply(
      first.state,
      snapshot(
        { seq: 3, observedAt: at(60) },
        { models: { sonnet: usage(250, 40) }, costUsd: 2.5, turns: 3 },
      ),
    );
    if (!third.outcome.applied) throw new Error('not applied');
    expect(third.outcome.usage).toEqual([
      { day: '2026-03-01', projectId: P, model: 'sonnet', tokens: usage(150, 30), costUsd: 1.5 },
    ]);
    expect(third.outcome.session).toMatchObject({ turns: 3, costUsd: 2.5, lastSeenAt: at(60) });
    expect(third.outcome.created).toBe(false);
  });

  it('sums two runners of a resumed session, and the latest run decides result and state', () => {
    const ended = { subtype: 'error_max_turns', isError: true, resumable: true, resumeAt: null };
    const first = apply(null, snapshot({ seq: 4 }, { result: ended, reportedCostUsd: 0.9 }));
    if (!first.outcome.applied) throw new Error('not applied');
    expect(first.outcome.ended).toBe('result');
    expect(first.state?.session.endedAt).toEqual(T0);

    const resumed = apply(
      first.state,
      snapshot(
        { runnerId: R2, seq: 1, observedAt: at(120) },
        { models: { sonnet: usage(40, 5), haiku: usage(10, 5) }, costUsd: 0.5, turns: 2 },
      ),
    );
    if (!resumed.outcome.applied) throw new Error('not applied');
    expect(resumed.outcome.ended).toBeNull();
    expect(resumed.outcome.session).toMatchObject({
      firstRunnerId: R1,
      turns: 3,
      costUsd: 1.5,
      reportedCostUsd: 0.9,
      result: null,
      endedAt: null,
      tokens: usage(150, 20),
    });
    expect(resumed.outcome.session.models).toEqual({
      sonnet: { ...usage(140, 15), costUsd: 1.25 },
      haiku: { ...usage(10, 5), costUsd: 0.25 },
    });

    const done = apply(
      resumed.state,
      snapshot(
        { runnerId: R2, seq: 2, observedAt: at(180) },
        {
          models: { sonnet: usage(40, 5), haiku: usage(10, 5) },
          costUsd: 0.5,
          turns: 2,
          result: { subtype: 'success', isError: false, resumable: false, resumeAt: null },
        },
      ),
    );
    if (!done.outcome.applied) throw new Error('not applied');
    expect(done.outcome.ended).toBe('result');
    expect(done.outcome.usage).toEqual([]);
    expect(done.outcome.session.result?.subtype).toBe('success');
    expect(done.outcome.session.endedAt).toEqual(at(180));
  });

  it('ends a session whose runners all ended without a result', () => {
    const { outcome } = apply(null, snapshot(), [R1]);
    expect(outcome).toMatchObject({ applied: true, ended: 'runner_ended' });
  });

  it('keeps an unknown cost unknown without losing what was attributed', () => {
    const first = apply(null, snapshot({ seq: 1 }, { costUsd: null }));
    if (!first.outcome.applied) throw new Error('not applied');
    expect(first.outcome.session.costUsd).toBeNull();
    expect(first.outcome.session.models.sonnet?.costUsd).toBeNull();
    expect(first.outcome.usage[0]?.costUsd).toBe(0);

    const priced = apply(first.state, snapshot({ seq: 2 }, { costUsd: 0.4 }));
    if (!priced.outcome.applied) throw new Error('not applied');
    expect(priced.outcome.usage).toEqual([
      { day: '2026-03-01', projectId: P, model: 'sonnet', tokens: usage(0, 0), costUsd: 0.4 },
    ]);
    const dropped = apply(priced.state, snapshot({ seq: 3 }, { costUsd: 0.1 }));
    if (!dropped.outcome.applied) throw new Error('not applied');
    expect(dropped.outcome.usage).toEqual([]);
  });
});

describe('splitCost', () => {
  it('splits by weight and puts the rounding remainder on the heaviest model', () => {
    expect(splitCost(1, { a: 1, b: 2 }, {}, ['a', 'b'])).toEqual({
      a: 0.3333333333,
      b: 0.6666666667,
    });
    expect(splitCost(1, { a: 0 }, { a: 0, b: 5 }, ['a', 'b'])).toEqual({ b: 1 });
    expect(splitCost(1, {}, {}, ['z', 'm'])).toEqual({ m: 1 });
  });

  it('weighs by list price with the shared pricing table', () => {
    const weights = listPriceWeights({
      'claude-sonnet-4-5-20250929': { ...usage(1_000_000, 0) },
      'some-unknown-model': { ...usage(1_000_000, 0) },
    });
    expect(weights['claude-sonnet-4-5-20250929']).toBeGreaterThan(0);
    expect(weights['some-unknown-model']).toBe(0);
  });
});

describe('sessionState and tokens', () => {
  it('keeps the first end instant and reopens when a runner still runs without result', () => {
    const run = apply(null, snapshot()).state!.runs[0]!;
    expect(sessionState(null, [run], new Set([R1]), at(5))).toEqual({
      endedAt: at(5),
      reason: 'runner_ended',
    });
    expect(sessionState(T0, [run], new Set([R1]), at(5)).endedAt).toEqual(T0);
    expect(sessionState(T0, [run], new Set(), at(5))).toEqual({ endedAt: null, reason: null });
  });

  it('adds the two cache lifetimes into cacheCreation', () => {
    expect(sessionTokens({ ...usage(1, 2, 3), cacheCreation5m: 4, cacheCreation1h: 5 })).toEqual({
      input: 1,
      output: 2,
      cacheCreation: 9,
      cacheCreation5m: 4,
      cacheCreation1h: 5,
      cacheRead: 3,
      webSearchRequests: 0,
    });
  });
});
