import { randomUUID } from 'node:crypto';

import {
  type RunnersStatsView,
  SESSION_STORE_SERVICE,
  type SessionDetail,
  type SessionDetailView,
  type SessionListView,
  SessionStoreErrorCode,
  type SessionSummary,
  type TranscriptWindowReply,
  type UsageView,
} from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { FakeResponder, type GatewayUnderTest, startGateway } from '../api-gateway.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

const PROJECT_ID = '11111111-1111-4111-8111-111111111111';
const RUNNER_ID = '33333333-3333-4333-8333-333333333333';
const NOW = '2026-03-01T10:00:00.000Z';

const tokens = {
  input: 100,
  output: 10,
  cacheCreation: 5,
  cacheCreation5m: 5,
  cacheCreation1h: 0,
  cacheRead: 50,
  webSearchRequests: 0,
};

function summary(overrides: Partial<SessionSummary> = {}): SessionSummary {
  return {
    id: 'sess-1',
    projectId: PROJECT_ID,
    runnerId: RUNNER_ID,
    runnerIds: [RUNNER_ID],
    cwd: '/srv/alpha',
    models: {
      'claude-sonnet-4-5': {
        input: 100,
        output: 10,
        cacheCreation5m: 5,
        cacheCreation1h: 0,
        cacheRead: 50,
        webSearchRequests: 0,
        costUsd: 0.42,
      },
    },
    tokens,
    turns: 3,
    costUsd: 0.42,
    reportedCostUsd: 0.41,
    result: null,
    resumedFrom: null,
    waitingForInput: false,
    startedAt: NOW,
    lastSeenAt: NOW,
    endedAt: null,
    ...overrides,
  };
}

function project(id = PROJECT_ID, name = 'alpha') {
  return {
    id,
    name,
    path: '/srv/alpha',
    description: '',
    command: ['claude'],
    maxRunners: 2,
    env: [],
    createdAt: NOW,
    updatedAt: NOW,
    archivedAt: null,
  };
}

function remoteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('session, usage and statistics routes', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let sessionStore: FakeResponder;
  let viewer: string;

  async function call<T = ApiErrorBody>(path: string, key: string | null = viewer) {
    const response = await fetch(`${gateway.url}${path}`, {
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_sessions');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 2_000,
    });
    sessionStore = new FakeResponder(SESSION_STORE_SERVICE);
    await sessionStore.attach(gateway.bus);
    viewer = (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key;
  });

  afterEach(() => {
    try {
      gateway.runnerManager.assertSatisfied();
      sessionStore.assertSatisfied();
    } finally {
      gateway.runnerManager.reset();
      sessionStore.reset();
    }
  });

  afterAll(async () => {
    await sessionStore?.detach();
    await gateway?.stop();
    await testDb?.drop();
  });

  it('lists sessions of a project given by name, with the project names added', async () => {
    gateway.runnerManager
      .expect('projects.get', () => project())
      .expect('projects.list', () => ({ projects: [project()] }));
    sessionStore.expect('sessions.list', () => ({ sessions: [summary()] }));

    const since = '2026-02-01T00:00:00.000Z';
    const response = await call<SessionListView>(
      `/api/v1/sessions?project=alpha&since=${since}&limit=20`,
    );

    expect(response.status).toBe(200);
    expect(response.json.sessions).toEqual([
      { ...summary(), project: { id: PROJECT_ID, name: 'alpha' } },
    ]);
    expect(gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { project: 'alpha' },
      { includeArchived: true },
    ]);
    expect(sessionStore.received.map((r) => r.payload)).toEqual([
      { project: PROJECT_ID, since, limit: 20 },
    ]);
  });

  it('answers a session with its project name, or null when runner-manager fails', async () => {
    const detail: SessionDetail = { ...summary(), runs: [], transcripts: [] };
    sessionStore.expect('sessions.get', () => detail).expect('sessions.get', () => detail);
    gateway.runnerManager
      .expect('projects.get', () => project())
      .expect('projects.get', () => {
        throw remoteError('INTERNAL', 'down');
      });

    const named = await call<SessionDetailView>('/api/v1/sessions/sess-1');
    const unnamed = await call<SessionDetailView>('/api/v1/sessions/sess-1');

    expect(named).toEqual({
      status: 200,
      json: { ...detail, project: { id: PROJECT_ID, name: 'alpha' } },
    });
    expect(unnamed.json.project).toEqual({ id: PROJECT_ID, name: null });
    expect(sessionStore.received.map((r) => r.payload)).toEqual([
      { session: 'sess-1' },
      { session: 'sess-1' },
    ]);
  });

  it('pages a transcript by kind, offset and limit', async () => {
    const window: TranscriptWindowReply = {
      content: '{"a":1}\n',
      offset: 0,
      nextOffset: 8,
      size: 8,
      eof: true,
      transcript: {
        kind: 'subagent',
        agentId: 'a1',
        size: 8,
        lineCount: 1,
        sha256: 'f'.repeat(64),
        uploadedAt: NOW,
        uploadedBy: RUNNER_ID,
      },
    };
    sessionStore
      .expect('sessions.transcript', () => window)
      .expect('sessions.transcript', () => window);

    expect(
      (await call<TranscriptWindowReply>('/api/v1/sessions/sess-1/transcript?kind=subagent-a1'))
        .json,
    ).toEqual(window);
    await call('/api/v1/sessions/sess-1/transcript?offset=8&limit=1024');

    expect(sessionStore.received.map((r) => r.payload)).toEqual([
      { session: 'sess-1', kind: 'subagent', agentId: 'a1', offset: 0, limitBytes: 262_144 },
      { session: 'sess-1', kind: 'main', agentId: null, offset: 8, limitBytes: 1024 },
    ]);
  });

  it('answers usage by project with names, and by model without asking runner-manager', async () => {
    const row = { key: PROJECT_ID, tokens, costUsd: 1.5 };
    const reply = {
      by: 'project',
      from: '2026-02-01',
      to: '2026-02-28',
      rows: [row],
      total: { tokens, costUsd: 1.5 },
    };
    sessionStore
      .expect('usage.by', () => reply)
      .expect('usage.by', () => ({ ...reply, by: 'model', rows: [{ ...row, key: 'sonnet' }] }));
    gateway.runnerManager.expect('projects.list', () => ({ projects: [project()] }));

    const byProject = await call<UsageView>(
      '/api/v1/usage?by=project&from=2026-02-01&to=2026-02-28',
    );
    const byModel = await call<UsageView>('/api/v1/usage?by=model');

    expect(byProject.json.rows).toEqual([{ ...row, name: 'alpha' }]);
    expect(byModel.json.rows).toEqual([{ ...row, key: 'sonnet', name: null }]);
    expect(sessionStore.received.map((r) => r.payload)).toEqual([
      { by: 'project', from: '2026-02-01', to: '2026-02-28' },
      { by: 'model' },
    ]);
  });

  it('answers runner statistics per project with names', async () => {
    const outcomes = {
      launched: 4,
      active: 1,
      completed: 2,
      failed: 1,
      stopped: 0,
      successRate: 0.6667,
      failureReasons: { nonzero_exit: 1 },
      durationMs: { avg: 1000, p50: 900, p95: 1500, max: 1600 },
    };
    sessionStore.expect('runners.stats', () => ({
      from: '2026-02-01',
      to: '2026-03-01',
      projects: [{ projectId: PROJECT_ID, ...outcomes }],
      total: outcomes,
    }));
    gateway.runnerManager.expect('projects.list', () => ({ projects: [project()] }));

    const response = await call<RunnersStatsView>(`/api/v1/stats/runners?project=${PROJECT_ID}`);

    expect(response.json.projects).toEqual([
      { ...outcomes, project: { id: PROJECT_ID, name: 'alpha' } },
    ]);
    expect(sessionStore.received.map((r) => r.payload)).toEqual([{ project: PROJECT_ID }]);
  });

  it('answers 400 naming the field, without asking any service', async () => {
    const fields = async (path: string) => {
      const response = await call(path);
      expect(response.status).toBe(400);
      expect(response.json.code).toBe('VALIDATION_FAILED');
      return response.json.errors?.map((e) => e.field);
    };

    expect(await fields('/api/v1/sessions?limit=0')).toEqual(['limit']);
    expect(await fields('/api/v1/sessions?runner=nope')).toEqual(['runner']);
    expect(await fields('/api/v1/sessions?since=yesterday')).toEqual(['since']);
    expect(await fields('/api/v1/sessions/sess-1/transcript?kind=sidechain')).toEqual(['kind']);
    expect(await fields('/api/v1/sessions/sess-1/transcript?limit=0')).toEqual(['limit']);
    expect(await fields('/api/v1/usage?by=week')).toEqual(['by']);
    expect(await fields('/api/v1/usage')).toEqual(['by']);
    expect(await fields('/api/v1/usage?by=day&from=2026-13-01')).toEqual(['from']);
    expect(await fields('/api/v1/stats/runners?from=2026-03-02&to=2026-03-01')).toEqual(['from']);
  });

  it("maps session-store's errors to statuses", async () => {
    sessionStore
      .expect('sessions.get', () => {
        throw remoteError(SessionStoreErrorCode.SessionNotFound, 'session s not found');
      })
      .expect('sessions.transcript', () => {
        throw remoteError(
          SessionStoreErrorCode.TranscriptNotFound,
          'session s has no main transcript',
        );
      })
      .expect('sessions.get', () => {
        throw remoteError(SessionStoreErrorCode.Internal, 'sessions.get failed: internal error');
      })
      .expect('sessions.get', () => {
        throw remoteError('SOMETHING_NEW', 'what');
      });

    const missing = await call('/api/v1/sessions/s');
    const noTranscript = await call('/api/v1/sessions/s/transcript');
    const broken = await call('/api/v1/sessions/s');
    const unknown = await call('/api/v1/sessions/s');

    expect([missing.status, missing.json.code, missing.json.message]).toEqual([
      404,
      'SESSION_NOT_FOUND',
      'session s not found',
    ]);
    expect([noTranscript.status, noTranscript.json.code]).toEqual([404, 'TRANSCRIPT_NOT_FOUND']);
    expect([broken.status, broken.json.code]).toEqual([502, 'UPSTREAM_ERROR']);
    expect([unknown.status, unknown.json.code]).toEqual([502, 'UPSTREAM_ERROR']);
  });

  it('needs a key, and documents every route', async () => {
    expect((await call('/api/v1/sessions', null)).status).toBe(401);
    expect((await call(`/api/v1/usage?by=day&x=${randomUUID()}`, null)).status).toBe(401);
    const document = await call<{ paths: Record<string, { get?: unknown }> }>('/docs-json', null);
    for (const path of [
      '/api/v1/sessions',
      '/api/v1/sessions/{id}',
      '/api/v1/sessions/{id}/transcript',
      '/api/v1/usage',
      '/api/v1/stats/runners',
    ]) {
      expect(document.json.paths[path]?.get).toBeDefined();
    }
  });
});
