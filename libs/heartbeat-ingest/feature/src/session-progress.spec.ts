import { type HeartbeatSession } from '@stratavore/contracts';
import { NO_SESSION_PROGRESS } from '@stratavore/heartbeat-ingest-data-access';

import { planFlush } from './heartbeat-flush-planner';
import { buffered, registered, testEvents } from './heartbeat-ingest.test-support';
import { canonicalJson, computeCostDelta, sessionDigest, singleModel } from './session-progress';

const A = '11111111-1111-4111-8111-111111111111';

const usage = (input: number, output: number) => ({
  input,
  output,
  cacheCreation5m: 0,
  cacheCreation1h: 0,
  cacheRead: 0,
  webSearchRequests: 0,
});

function session(overrides: Partial<HeartbeatSession> = {}): HeartbeatSession {
  return {
    sessionId: 'sess-1',
    models: { 'claude-sonnet-4-5': usage(100, 10) },
    turns: 1,
    costUsd: 0.25,
    reportedCostUsd: null,
    cwd: '/srv/app',
    transcriptPath: null,
    resumedFrom: null,
    waitingForInput: false,
    result: null,
    ...overrides,
  };
}

const counters = (input: number, output: number) => ({
  inputTokens: input,
  outputTokens: output,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
});

describe('session digest', () => {
  it('is the same for snapshots that differ only in key order, and differs otherwise', () => {
    const a = session({ models: { x: usage(1, 2), y: usage(3, 4) } });
    const b = { ...session(), models: { y: usage(3, 4), x: usage(1, 2) } };
    expect(sessionDigest(a)).toBe(sessionDigest(b));
    expect(sessionDigest(a)).not.toBe(sessionDigest({ ...a, waitingForInput: true }));
    expect(sessionDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [null, 'x'], c: undefined })).toBe('{"a":[null,"x"],"b":1}');
  });

  it('names the model of a one-model session only', () => {
    expect(singleModel(session())).toBe('claude-sonnet-4-5');
    expect(singleModel(session({ models: { x: usage(1, 1), y: usage(1, 1) } }))).toBeUndefined();
    expect(singleModel(session({ models: {} }))).toBeUndefined();
    expect(singleModel(undefined)).toBeUndefined();
  });
});

describe('computeCostDelta', () => {
  const booked = (costUsd: number, costSessionId = 'sess-1') => ({ costSessionId, costUsd });

  it('books the growth of the cumulative cost, and nothing for a repeat', () => {
    expect(computeCostDelta(booked(0.1), session({ costUsd: 0.3 }))).toEqual({
      deltaUsd: 0.2,
      base: booked(0.3),
      reset: false,
    });
    expect(computeCostDelta(booked(0.3), session({ costUsd: 0.3 })).deltaUsd).toBe(0);
  });

  it('covers a lost report with the next one', () => {
    const first = computeCostDelta(NO_SESSION_PROGRESS, session({ costUsd: 0.1 }));
    const third = computeCostDelta(first.base, session({ costUsd: 0.35 }));
    expect((first.deltaUsd ?? 0) + (third.deltaUsd ?? 0)).toBeCloseTo(0.35, 10);
  });

  it('starts another session of the runner from zero', () => {
    expect(computeCostDelta(booked(2), session({ sessionId: 'sess-2', costUsd: 0.5 }))).toEqual({
      deltaUsd: 0.5,
      base: booked(0.5, 'sess-2'),
      reset: false,
    });
  });

  it('treats a cost that went down as a reset, and an unknown cost as nothing', () => {
    expect(computeCostDelta(booked(1), session({ costUsd: 0.2 }))).toEqual({
      deltaUsd: 0,
      base: booked(0.2),
      reset: true,
    });
    expect(computeCostDelta(booked(1), session({ costUsd: null }))).toEqual({
      deltaUsd: null,
      base: booked(1),
      reset: false,
    });
    expect(computeCostDelta(booked(1), undefined)).toEqual({
      deltaUsd: null,
      base: booked(1),
      reset: false,
    });
  });

  it('rounds floating-point noise away', () => {
    expect(computeCostDelta(booked(0.1), session({ costUsd: 0.30000000000000004 })).deltaUsd).toBe(
      0.2,
    );
  });
});

describe('planFlush with sessions', () => {
  const events = testEvents();

  it('emits session.reported for a new or changed snapshot, and usage with model and cost', () => {
    const first = planFlush(
      [registered(A, { startedAt: new Date() })],
      [
        buffered(A, {
          seq: 1,
          sessionId: 'sess-1',
          counters: counters(100, 10),
          session: session(),
        }),
      ],
      events,
    );
    expect(first.plan.events.map((e) => e.type)).toEqual(['usage.reported', 'session.reported']);
    expect(first.plan.events[0]?.data).toMatchObject({
      sessionId: 'sess-1',
      model: 'claude-sonnet-4-5',
      inputTokens: 100,
      outputTokens: 10,
      costUsd: 0.25,
    });
    expect(first.plan.events[1]?.data).toEqual({
      runnerId: A,
      projectId: '22222222-2222-4222-8222-222222222222',
      seq: 1,
      observedAt: '2026-01-01T00:00:01.000Z',
      session: session(),
    });
    const progress = first.plan.progress[0];
    expect(progress?.session).toEqual({
      digest: sessionDigest(session()),
      costSessionId: 'sess-1',
      costUsd: 0.25,
    });

    const after = registered(A, {
      startedAt: new Date(),
      lastSeq: 1,
      counters: counters(100, 10),
      session: progress!.session,
    });
    const same = planFlush(
      [after],
      [buffered(A, { seq: 2, counters: counters(100, 10), session: session() })],
      events,
    );
    expect(same.plan.events).toEqual([]);

    const waiting = planFlush(
      [after],
      [
        buffered(A, {
          seq: 2,
          counters: counters(100, 10),
          session: session({ waitingForInput: true }),
        }),
      ],
      events,
    );
    expect(waiting.plan.events.map((e) => e.type)).toEqual(['session.reported']);
  });

  it('books cost alone when only the cost grew, and no model for a mixed session', () => {
    const after = registered(A, {
      startedAt: new Date(),
      lastSeq: 1,
      counters: counters(100, 10),
      session: { digest: null, costSessionId: 'sess-1', costUsd: 0.25 },
    });
    const mixed = session({
      models: { 'claude-sonnet-4-5': usage(100, 10), 'claude-haiku-4-5': usage(0, 0) },
      costUsd: 0.5,
    });
    const plan = planFlush(
      [after],
      [buffered(A, { seq: 2, counters: counters(100, 10), session: mixed })],
      events,
    );
    const usageEvent = plan.plan.events.find((e) => e.type === 'usage.reported');
    expect(usageEvent?.data).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0.25 });
    expect(usageEvent?.data).not.toHaveProperty('model');
  });

  it('ignores the session of a report older than the last booked one', () => {
    const after = registered(A, { startedAt: new Date(), lastSeq: 5 });
    const plan = planFlush([after], [buffered(A, { seq: 4, session: session() })], events);
    expect(plan.plan.events).toEqual([]);
    expect(plan.plan.progress).toEqual([]);
  });

  it('reports a cost that went down as a reset', () => {
    const after = registered(A, {
      startedAt: new Date(),
      lastSeq: 1,
      session: { digest: null, costSessionId: 'sess-1', costUsd: 9 },
    });
    const plan = planFlush([after], [buffered(A, { seq: 2, session: session() })], events);
    expect(plan.resets).toEqual([{ runnerId: A, counters: ['costUsd'] }]);
  });
});
