import { randomUUID } from 'node:crypto';

import { Logger } from '@nestjs/common';
import {
  HEARTBEAT_INGEST_SERVICE,
  RunnerErrorCode,
  type RunnerListReply,
  type RunnerLiveness,
  type RunnerReply,
} from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { FakeResponder, type GatewayUnderTest, startGateway } from '../api-gateway.test-support';
import { runnerReply } from './runner-reply.test-support';

function liveness(runnerId: string, overrides: Partial<RunnerLiveness> = {}): RunnerLiveness {
  return {
    runnerId,
    lastHeartbeatAt: '2026-11-24T10:05:00.000Z',
    pid: 4242,
    cpuPercent: 37.5,
    memoryBytes: 209_715_200,
    status: 'running',
    seq: 31,
    counters: { inputTokens: 1200, outputTokens: 300, cacheCreationTokens: 40, cacheReadTokens: 9 },
    ...overrides,
  };
}

describe('runner routes merge liveness from heartbeat-ingest', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let heartbeatIngest: FakeResponder;
  let viewer: string;
  let operator: string;
  let warn: jest.SpiedFunction<Logger['warn']>;

  async function call<T>(method: string, path: string, key: string) {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_liveness');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 2_000,
      livenessTimeoutMs: 150,
      // Each test's stand-ins answer the same page differently; the cache has its own suite.
      runnerListCache: { ttlMs: 0 },
    });
    heartbeatIngest = new FakeResponder(HEARTBEAT_INGEST_SERVICE);
    viewer = (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key;
    operator = (await gateway.keys.create({ name: 'operator', scope: 'operator' })).key;
  });

  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await heartbeatIngest.attach(gateway.bus);
  });

  afterEach(async () => {
    warn.mockRestore();
    await heartbeatIngest.detach();
    try {
      gateway.runnerManager.assertSatisfied();
      heartbeatIngest.assertSatisfied();
    } finally {
      gateway.runnerManager.reset();
      heartbeatIngest.reset();
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  it('lists runners with one liveness.get; runner-manager values stay where heartbeat-ingest has none', async () => {
    const reported = runnerReply();
    const childUnknown = runnerReply({ pid: 3131 });
    const silent = runnerReply({ state: 'starting', pid: null, cpuPercent: 1, memoryBytes: 5 });
    gateway.runnerManager.expect('runners.list', () => ({
      runners: [reported, childUnknown, silent],
    }));
    heartbeatIngest.expect('liveness.get', () => ({
      runners: [
        liveness(reported.id),
        liveness(childUnknown.id, { pid: null, status: 'starting', cpuPercent: 0 }),
      ],
    }));

    const response = await call<RunnerListReply>('GET', '/api/v1/runners', viewer);

    expect(response.status).toBe(200);
    expect(heartbeatIngest.received.map((r) => r.payload)).toEqual([
      { runnerIds: [reported.id, childUnknown.id, silent.id] },
    ]);
    expect(response.json.runners).toEqual([
      {
        ...reported,
        lastHeartbeatAt: '2026-11-24T10:05:00.000Z',
        pid: 4242,
        cpuPercent: 37.5,
        memoryBytes: 209_715_200,
        tokens: {
          inputTokens: 1200,
          outputTokens: 300,
          cacheCreationTokens: 40,
          cacheReadTokens: 9,
        },
      },
      expect.objectContaining({ id: childUnknown.id, pid: 3131, cpuPercent: 0 }),
      silent,
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('writes every field of the contract, nested and null ones included (response schema)', async () => {
    const full = runnerReply({
      state: 'failed',
      prompt: 'fix "the" build\n\u2713',
      exitCode: 2,
      signal: null,
      failureReason: 'nonzero_exit',
      sessionId: 'session-1',
      endedAt: '2026-11-24T10:09:00.000Z',
      cpuPercent: 12.25,
      memoryBytes: 9_007_199_254_740,
      cwd: '/srv/alpha/sub dir',
      resumedFrom: null,
      restartPolicy: 'on-failure',
      maxRestarts: 3,
      restartOf: randomUUID(),
      restarts: 1,
      restart: {
        id: randomUUID(),
        attempt: 2,
        at: '2026-11-24T10:10:00.000Z',
        reason: 'backoff',
        state: 'scheduled',
        resumeSessionId: 'session-1',
        replacementId: null,
        detail: null,
      },
    });
    gateway.runnerManager
      .expect('runners.list', () => ({ runners: [full] }))
      .expect('runners.get', () => full);
    heartbeatIngest
      .expect('liveness.get', () => ({ runners: [] }))
      .expect('liveness.get', () => ({ runners: [] }));

    const listed = await call<RunnerListReply>('GET', '/api/v1/runners', viewer);
    const got = await call<RunnerReply>('GET', `/api/v1/runners/${full.id}`, viewer);

    expect(listed.json).toStrictEqual({ runners: [full] });
    expect(got.json).toStrictEqual(full);
  });

  it('passes limit and cursor to runner-manager and writes its nextCursor', async () => {
    const page = [runnerReply(), runnerReply()];
    const after = randomUUID();
    gateway.runnerManager
      .expect('runners.list', () => ({ runners: page, nextCursor: page[1]!.id }))
      .expect('runners.list', () => ({ runners: [], nextCursor: null }));
    heartbeatIngest.expect('liveness.get', () => ({ runners: [] }));

    const first = await call<RunnerListReply>('GET', `/api/v1/runners?limit=2`, viewer);
    const last = await call<RunnerListReply>('GET', `/api/v1/runners?cursor=${after}`, viewer);
    const bad = await call<{ message: string }>('GET', '/api/v1/runners?cursor=page-2', viewer);

    expect(gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { limit: 2 },
      { limit: 50, cursor: after },
    ]);
    expect(first.json).toStrictEqual({ runners: page, nextCursor: page[1]!.id });
    expect(last.json).toStrictEqual({ runners: [], nextCursor: null });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('cursor');
  });

  it('answers 502 for a malformed page or runner, and 404 for an unknown runner', async () => {
    const runner = runnerReply();
    const missing = randomUUID();
    gateway.runnerManager
      .expect('runners.list', () => ({ runners: [{ ...runner, tokens: undefined }] }))
      .expect('runners.get', () => ({ ...runner, state: 'asleep' }))
      .expect('runners.get', () => {
        throw Object.assign(new Error(`runner ${missing} not found`), {
          code: RunnerErrorCode.RunnerNotFound,
        });
      });
    // A runner's liveness is asked for together with the runner.
    heartbeatIngest
      .expect('liveness.get', () => ({ runners: [liveness(runner.id)] }))
      .expect('liveness.get', () => ({ runners: [] }));

    const page = await call<{ code: string }>('GET', '/api/v1/runners', viewer);
    const one = await call<{ code: string }>('GET', `/api/v1/runners/${runner.id}`, viewer);
    const unknown = await call<{ code: string }>('GET', `/api/v1/runners/${missing}`, viewer);

    expect([page.status, page.json.code]).toEqual([502, 'UPSTREAM_ERROR']);
    expect([one.status, one.json.code]).toEqual([502, 'UPSTREAM_ERROR']);
    expect(unknown.status).toBe(404);
    expect(heartbeatIngest.received.map((r) => r.payload)).toEqual([
      { runnerIds: [runner.id] },
      { runnerIds: [missing] },
    ]);
  });

  it('asks nothing of heartbeat-ingest for an empty list', async () => {
    gateway.runnerManager.expect('runners.list', () => ({ runners: [] }));
    const response = await call<RunnerListReply>('GET', '/api/v1/runners', viewer);
    expect(response.json).toEqual({ runners: [] });
  });

  it('merges liveness into a single runner and into the stop reply', async () => {
    const runner = runnerReply();
    const stopping = { ...runner, state: 'stopping' as const, desiredState: 'stop' as const };
    gateway.runnerManager
      .expect('runners.get', () => runner)
      .expect('runners.stop', () => stopping);
    heartbeatIngest
      .expect('liveness.get', () => ({ runners: [liveness(runner.id)] }))
      .expect('liveness.get', () => ({ runners: [liveness(runner.id, { seq: 32 })] }));

    const got = await call<RunnerReply>('GET', `/api/v1/runners/${runner.id}`, viewer);
    const stopped = await call<RunnerReply>('POST', `/api/v1/runners/${runner.id}/stop`, operator);

    expect(got.json).toMatchObject({ id: runner.id, pid: 4242, cpuPercent: 37.5 });
    expect(got.json.tokens.inputTokens).toBe(1200);
    expect(stopped.status).toBe(202);
    expect(stopped.json).toMatchObject({ state: 'stopping', memoryBytes: 209_715_200 });
    expect(heartbeatIngest.received.map((r) => r.payload)).toEqual([
      { runnerIds: [runner.id] },
      { runnerIds: [runner.id] },
    ]);
  });

  it("answers with runner-manager's view and warns when heartbeat-ingest is down, silent or malformed", async () => {
    const runner = runnerReply();
    await heartbeatIngest.detach();
    gateway.runnerManager.expect('runners.list', () => ({ runners: [runner] }));
    const down = await call<RunnerListReply>('GET', '/api/v1/runners', viewer);
    expect(down).toEqual({ status: 200, json: { runners: [runner] } });
    expect(warn).toHaveBeenLastCalledWith(expect.stringContaining('no responder'));

    await heartbeatIngest.attach(gateway.bus);
    gateway.runnerManager.expect('runners.get', () => runner);
    heartbeatIngest.expect('liveness.get', () => new Promise(() => undefined));
    const silent = await call<RunnerReply>('GET', `/api/v1/runners/${runner.id}`, viewer);
    expect(silent).toEqual({ status: 200, json: runner });
    expect(warn).toHaveBeenLastCalledWith(expect.stringContaining('timed out'));

    gateway.runnerManager.expect('runners.get', () => runner);
    heartbeatIngest.expect('liveness.get', () => ({ runners: [{ runnerId: runner.id }] }));
    const malformed = await call<RunnerReply>('GET', `/api/v1/runners/${runner.id}`, viewer);
    expect(malformed).toEqual({ status: 200, json: runner });
    expect(warn).toHaveBeenLastCalledWith(expect.stringContaining('malformed'));
    expect(warn).toHaveBeenCalledTimes(3);
  });
});
