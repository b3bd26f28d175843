import { ManualClock, RandomIdGenerator } from '@stratavore/core';
import { HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { AdvisoryLeadership } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { Client } from 'pg';

import { hashRunnerToken } from './heartbeat-auth';
import { HeartbeatBatchWriter } from './heartbeat-batch-writer';
import { migrateMessaging, newRunner, type TestRunner } from './heartbeat-ingest.int-test-support';
import { heartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { buffered, testEvents } from './heartbeat-ingest.test-support';
import { StaleRunnerDetector } from './stale-runner-detector';

describe('stale-runner detector on PostgreSQL', () => {
  let db: TestDatabase;
  let store: HeartbeatStore;
  let sql: Client;
  const leaderships: AdvisoryLeadership[] = [];
  const clock = new ManualClock('2026-01-01T00:00:00.000Z');
  const metrics = heartbeatIngestMetrics();

  beforeAll(async () => {
    db = await createTestDatabase('heartbeat_stale');
    await migrateMessaging(db.url);
    store = await HeartbeatStore.open(db.url, { poolSize: 4 });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await Promise.all(leaderships.map((l) => l.stop()));
    await sql?.end();
    await store?.close();
    await db?.drop();
  });

  function detectorPair() {
    let leadership: AdvisoryLeadership | null = null;
    const detector = new StaleRunnerDetector({
      store,
      leadership: { isLeader: () => leadership?.isLeader() ?? false },
      clock,
      events: testEvents(clock, new RandomIdGenerator()),
      // Grace and start timeout equal to the stale window (30 s): the defaults' floors are
      // covered by the unit tests.
      rules: {
        staleAfterIntervals: 3,
        massStaleMinActive: 3,
        graceMs: 30_000,
        startTimeoutMs: 30_000,
      },
      metrics,
      logger: { warn: () => undefined },
    });
    leadership = new AdvisoryLeadership({
      url: db.url,
      key: 'heartbeat-ingest:stale-runner-detector',
      intervalMs: 50,
      onElected: () => detector.onElected(),
      onDemoted: () => detector.onDemoted(),
    });
    leaderships.push(leadership);
    return { detector, leadership };
  }

  async function register(runners: TestRunner[]): Promise<void> {
    for (const r of runners) {
      await store.runOnce('test', crypto.randomUUID(), async (registry) => {
        await registry.register({
          runnerId: r.runnerId,
          projectId: r.projectId,
          tokenHash: hashRunnerToken(r.token),
          intervalMs: 10_000,
          registeredAt: clock.now(),
        });
      });
    }
  }

  async function heartbeat(runners: TestRunner[]): Promise<void> {
    const writer = new HeartbeatBatchWriter({
      store,
      events: testEvents(clock, new RandomIdGenerator()),
      policy: { flushIntervalMs: 60_000, maxEntries: 1_000 },
      metrics,
      logger: { warn: () => undefined, error: () => undefined },
    });
    for (const r of runners) {
      await writer.accept(buffered(r.runnerId, { seq: clock.now().getTime() }, clock.now()));
    }
    await writer.stop();
  }

  async function staleEvents(): Promise<string[]> {
    const result = await sql.query<{ subject: string }>(
      `SELECT subject FROM messaging.outbox WHERE type = 'heartbeat.runner-stale' ORDER BY position`,
    );
    return result.rows.map((row) => row.subject);
  }

  it('lets one of two detectors act, respects grace, 3 intervals and the brake', async () => {
    const first = detectorPair();
    const second = detectorPair();
    first.leadership.start();
    second.leadership.start();
    await waitFor(() => first.leadership.isLeader() || second.leadership.isLeader(), {
      description: 'a leader to be elected',
    });
    const leader = first.leadership.isLeader() ? first : second;
    const follower = leader === first ? second : first;
    expect(follower.leadership.isLeader()).toBe(false);
    expect(await follower.detector.check()).toEqual({ kind: 'not-leader' });

    const [silent, ...healthy] = [newRunner(), newRunner(), newRunner(), newRunner()];
    await register([silent, ...healthy]);
    await heartbeat([silent, ...healthy]);

    // a restart: everyone has been silent for long, but the detector has just started acting
    clock.advance(25_000);
    leader.detector.onElected();
    clock.advance(20_000);
    expect(await leader.detector.check()).toMatchObject({ kind: 'checked', reported: [] });

    await heartbeat(healthy);
    clock.advance(10_000);
    expect(await leader.detector.check()).toMatchObject({ reported: [silent.runnerId] });
    expect(await staleEvents()).toEqual([silent.runnerId]);
    expect(await follower.detector.check()).toEqual({ kind: 'not-leader' });

    // the brake: three of the four go silent at once
    await heartbeat(healthy.slice(0, 1));
    clock.advance(30_000);
    const braked = await leader.detector.check();
    expect(braked).toMatchObject({ kind: 'mass-stale', stale: 4, active: 4 });
    expect(await staleEvents()).toEqual([silent.runnerId]);
  });
});
