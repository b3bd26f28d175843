import { type EventEnvelope } from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';
import { type ActiveRunner, type StaleDecision } from '@stratavore/heartbeat-ingest-data-access';

import { heartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { testEvents } from './heartbeat-ingest.test-support';
import { StaleRunnerDetector, type StaleStore } from './stale-runner-detector';
import { judgeStaleRunners, type StaleRules } from './stale-runner-rules';

const START = new Date('2026-01-01T00:00:00.000Z');
/** Grace and start timeout equal to the 30 s stale window; the defaults have their own test. */
const rules: StaleRules = {
  staleAfterIntervals: 3,
  massStaleMinActive: 3,
  graceMs: 30_000,
  startTimeoutMs: 30_000,
};
const defaults: StaleRules = { staleAfterIntervals: 3, massStaleMinActive: 3 };

function runner(n: number, lastHeartbeatAt: Date | null, intervalMs = 10_000): ActiveRunner {
  return {
    runnerId: `11111111-1111-4111-8111-${String(n).padStart(12, '0')}`,
    projectId: '22222222-2222-4222-8222-222222222222',
    intervalMs,
    registeredAt: START,
    lastHeartbeatAt,
    staleReportedAt: null,
  };
}

const at = (ms: number) => new Date(START.getTime() + ms);

describe('judgeStaleRunners', () => {
  it('is stale after 3 intervals of silence, not before', () => {
    const r = runner(1, at(0));
    const since = at(-3_600_000);
    expect(judgeStaleRunners([r], at(29_999), since, rules).stale).toHaveLength(0);
    expect(judgeStaleRunners([r], at(30_000), since, rules).stale).toHaveLength(1);
  });

  it('judges no one within the grace period after the detector started acting', () => {
    const r = runner(1, at(-3_600_000));
    const judged = judgeStaleRunners([r], at(29_000), at(0), rules);
    expect(judged).toMatchObject({ stale: [], inGrace: 1 });
    expect(judgeStaleRunners([r], at(30_000), at(0), rules).stale).toHaveLength(1);
    // By default the grace outlasts the agent's retry backoff (30 s), not only the window.
    expect(judgeStaleRunners([r], at(44_999), at(0), defaults).inGrace).toBe(1);
    expect(judgeStaleRunners([r], at(45_000), at(0), defaults).stale).toHaveLength(1);
    expect(judgeStaleRunners([r], at(30_000), at(0), { ...rules, graceMs: 60_000 }).inGrace).toBe(
      1,
    );
  });

  it('gives a runner that never reported the start timeout, not one interval window', () => {
    const since = at(-3_600_000);
    const fast = runner(1, null, 1_000); // registered at START, 3 s window
    expect(judgeStaleRunners([fast], at(29_999), since, defaults).stale).toHaveLength(0);
    expect(judgeStaleRunners([fast], at(30_000), since, defaults).stale).toHaveLength(1);
    const custom = { ...defaults, startTimeoutMs: 5_000 };
    expect(judgeStaleRunners([fast], at(5_000), since, custom).stale).toHaveLength(1);
    // Once it reported, the ordinary window applies.
    const reported = runner(2, at(0), 1_000);
    expect(judgeStaleRunners([reported], at(3_000), since, defaults).stale).toHaveLength(1);
  });

  it('brakes when more than half of the active runners are stale', () => {
    const since = at(-3_600_000);
    const now = at(60_000);
    const fresh = (n: number) => runner(n, at(55_000));
    const silent = (n: number) => runner(n, at(0));
    const half = judgeStaleRunners([silent(1), silent(2), fresh(3), fresh(4)], now, since, rules);
    expect(half).toMatchObject({ massStale: false });
    expect(half.toReport).toHaveLength(2);
    const most = judgeStaleRunners([silent(1), silent(2), fresh(3)], now, since, rules);
    expect(most).toMatchObject({ massStale: true, toReport: [] });
    // below the minimum fleet size the brake does not apply: a lone runner can still fail
    expect(judgeStaleRunners([silent(1)], now, since, rules).toReport).toHaveLength(1);
  });
});

/** A strict fake of the store: the detector may only list, report and append. */
class FakeStaleStore implements StaleStore {
  runners: ActiveRunner[] = [];
  readonly appended: EventEnvelope[] = [];
  listActiveRunners() {
    return Promise.resolve(this.runners);
  }
  reportStale(ids: readonly string[], _at: Date, decide: (fresh: ActiveRunner[]) => StaleDecision) {
    const decision = decide(this.runners.filter((r) => ids.includes(r.runnerId)));
    this.runners = this.runners.map((r) =>
      decision.runnerIds.includes(r.runnerId) ? { ...r, staleReportedAt: _at } : r,
    );
    this.appended.push(...decision.events);
    return Promise.resolve(decision);
  }
  appendEvents(events: readonly EventEnvelope[]) {
    this.appended.push(...events);
    return Promise.resolve();
  }
}

describe('StaleRunnerDetector', () => {
  function setup(leader: boolean) {
    const clock = new ManualClock(START);
    const store = new FakeStaleStore();
    const detector = new StaleRunnerDetector({
      store,
      leadership: { isLeader: () => leader },
      clock,
      events: testEvents(clock),
      rules,
      metrics: heartbeatIngestMetrics(),
      logger: { warn: () => undefined },
    });
    return { clock, store, detector };
  }

  it('does nothing unless it leads', async () => {
    const { store, detector } = setup(false);
    store.runners = [runner(1, null)];
    expect(await detector.check()).toEqual({ kind: 'not-leader' });
    expect(store.appended).toEqual([]);
  });

  it('reports a silent runner once, after grace and 3 intervals', async () => {
    const { clock, store, detector } = setup(true);
    detector.onElected();
    store.runners = [runner(1, at(0)), runner(2, at(0)), runner(3, at(0))];
    clock.advance(20_000);
    store.runners = [runner(1, at(0)), runner(2, clock.now()), runner(3, clock.now())];
    expect(await detector.check()).toMatchObject({ kind: 'checked', reported: [], inGrace: 3 });
    clock.advance(10_000);
    const result = await detector.check();
    expect(result).toMatchObject({ kind: 'checked', reported: [runner(1, null).runnerId] });
    expect(store.appended.map((e) => [e.type, e.subject])).toEqual([
      ['heartbeat.runner-stale', runner(1, null).runnerId],
    ]);
    expect(store.appended[0]?.data).toMatchObject({
      reason: 'heartbeat_timeout',
      silentForMs: 30_000,
      staleAfterIntervals: 3,
    });
    expect(await detector.check()).toMatchObject({ reported: [] });
  });

  it('raises one mass-stale alert per episode and fails none', async () => {
    const { clock, store, detector } = setup(true);
    detector.onElected();
    store.runners = [runner(1, at(0)), runner(2, at(0)), runner(3, at(0)), runner(4, at(0))];
    clock.advance(40_000);
    expect(await detector.check()).toEqual({ kind: 'mass-stale', stale: 4, active: 4 });
    expect(await detector.check()).toEqual({ kind: 'mass-stale', stale: 4, active: 4 });
    expect(store.appended.map((e) => e.type)).toEqual(['heartbeat.mass-stale']);
    expect(store.appended[0]?.data).toMatchObject({ activeRunners: 4, staleRunners: 4 });
  });
});
