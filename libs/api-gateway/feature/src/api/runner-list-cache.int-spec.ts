import { randomUUID } from 'node:crypto';

import {
  defineEvent,
  EventCatalog,
  HEARTBEAT_INGEST_SERVICE,
  type LaunchRunnerReply,
  type RunnerListReply,
} from '@stratavore/contracts';
import { metricsRegistry } from '@stratavore/observability';
import { waitFor } from '@stratavore/testing';
import { z } from 'zod';

import { FakeResponder, publishTestEvent } from '../api-gateway.test-support';
import { runnerReplyFixture, useGatewaySuite } from '../gateway-suite.test-support';
import { type ReadCache, RUNNER_LIST_CACHE } from './read-cache';

const changeContracts = [
  defineEvent({ type: 'runner.running', version: 1, data: z.object({ runnerId: z.string() }) }),
  defineEvent({ type: 'usage.reported', version: 1, data: z.object({ runnerId: z.string() }) }),
] as const;
type ChangeEvent = (typeof changeContracts)[number];
const changeEvents = new EventCatalog<ChangeEvent>(changeContracts);

const RUNNER_ID = '44444444-4444-4444-8444-444444444444';

/** runner-manager's page with the one runner in `state`. */
function page(state: 'pending' | 'running' | 'completed'): RunnerListReply {
  return { runners: [runnerReplyFixture({ id: RUNNER_ID, state })], nextCursor: null };
}

async function listReads(outcome: string): Promise<number> {
  const metric = await metricsRegistry
    .getSingleMetric('stratavore_gateway_runner_list_reads_total')
    ?.get();
  return metric?.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
}

describe('the runner list cache behind GET /api/v1/runners', () => {
  // A TTL no slow machine reaches within a test: pages change only when the tests change them.
  const suite = useGatewaySuite('gateway_runner_list_cache', {
    runnerListCache: { ttlMs: 600_000 },
  });
  const heartbeatIngest = new FakeResponder(HEARTBEAT_INGEST_SERVICE);

  beforeAll(async () => {
    await heartbeatIngest.attach(suite.gateway.bus);
  });

  afterEach(() => {
    try {
      heartbeatIngest.assertSatisfied();
    } finally {
      heartbeatIngest.reset();
    }
  });

  /** runner-manager and heartbeat-ingest each expect one read, answering `state`. */
  function expectRead(state: 'pending' | 'running' | 'completed'): void {
    suite.gateway.runnerManager.expect('runners.list', () => page(state));
    heartbeatIngest.expect('liveness.get', () => ({ runners: [] }));
  }

  async function listState(headers: Record<string, string> = {}): Promise<string | undefined> {
    const response = await fetch(`${suite.gateway.url}/api/v1/runners`, {
      headers: { authorization: `Bearer ${suite.viewer}`, ...headers },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as RunnerListReply).runners[0]?.state;
  }

  function publish(type: ChangeEvent['type']) {
    return publishTestEvent(suite.gateway.bus, changeEvents, {
      type,
      version: 1,
      source: 'test',
      subject: RUNNER_ID,
      correlationId: 'list-cache',
      data: { runnerId: RUNNER_ID },
    });
  }

  it('answers a repeated list from memory until a runner event reaches the gateway', async () => {
    const cache = suite.gateway.app.get<ReadCache<unknown>>(RUNNER_LIST_CACHE);
    // The change subscription is taken once the application started; without it, no cache.
    await waitFor(() => cache.enabled || null, {
      timeoutMs: 5_000,
      description: 'the runner list cache to hear changes',
    });
    const invalidate = jest.spyOn(cache, 'invalidate');

    expectRead('pending');
    const hitsBefore = await listReads('hit');
    expect(await listState()).toBe('pending');
    expect(await listState()).toBe('pending');
    expect(await listState()).toBe('pending');
    expect((await listReads('hit')) - hitsBefore).toBe(2);

    // usage.reported comes first and is not even delivered: token counters only age.
    expectRead('running');
    await publish('usage.reported');
    await publish('runner.running');
    await waitFor(() => invalidate.mock.calls.length > 0 || null, {
      timeoutMs: 5_000,
      description: 'runner.running to reach the cache',
    });
    expect(invalidate).toHaveBeenCalledTimes(1);
    expect(await listState()).toBe('running');
    expect(await listState()).toBe('running');
    invalidate.mockRestore();
  });

  it("reads anew after the gateway's own launch, and for Cache-Control: no-cache", async () => {
    expectRead('running');
    expect(await listState({ 'cache-control': 'no-cache' })).toBe('running');
    expect(await listState()).toBe('running');

    suite.gateway.runnerManager.expect('runners.launch', (): LaunchRunnerReply => ({
      status: 'launched',
      runner: runnerReplyFixture({ id: randomUUID(), state: 'pending' }),
    }));
    const launched = await fetch(`${suite.gateway.url}/api/v1/projects/web/runners`, {
      method: 'POST',
      headers: { authorization: `Bearer ${suite.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    expect(launched.status).toBe(201);
    expectRead('completed');
    expect(await listState()).toBe('completed');

    expectRead('pending');
    expect(await listState({ 'cache-control': 'no-cache' })).toBe('pending');
    // The fresh read is what the next reader gets.
    expect(await listState()).toBe('pending');
  });
});
