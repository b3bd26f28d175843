import { randomUUID } from 'node:crypto';

import { type LaunchRunnerReply, RunnerErrorCode, type RunnerReply } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type GatewayUnderTest, startGateway } from '../api-gateway.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

const PROJECT_ID = '22222222-2222-4222-8222-222222222222';

function runner(overrides: Partial<RunnerReply> = {}): RunnerReply {
  return {
    id: randomUUID(),
    project: { id: PROJECT_ID, name: 'web' },
    state: 'starting',
    desiredState: 'run',
    mode: 'headless',
    command: ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--resume', 's-1'],
    prompt: 'continue',
    pid: null,
    agentPid: 4100,
    host: 'box',
    exitCode: null,
    signal: null,
    failureReason: null,
    sessionId: null,
    createdAt: '2026-11-24T10:00:00.000Z',
    startedAt: '2026-11-24T10:00:00.000Z',
    endedAt: null,
    lastHeartbeatAt: null,
    cpuPercent: null,
    memoryBytes: null,
    tokens: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    cwd: '/srv/web',
    resumedFrom: 's-1',
    restartPolicy: 'no',
    maxRestarts: 0,
    restartOf: null,
    restarts: 0,
    restart: null,
    ...overrides,
  };
}

describe('POST /api/v1/sessions/:id/resume', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let operator: string;
  let viewer: string;

  async function resume<T = ApiErrorBody>(id: string, body: unknown, key: string = operator) {
    const response = await fetch(`${gateway.url}/api/v1/sessions/${id}/resume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_session_resume');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 2_000,
    });
    operator = (await gateway.keys.create({ name: 'op', scope: 'operator' })).key;
    viewer = (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key;
  });

  afterEach(() => {
    try {
      gateway.runnerManager.assertSatisfied();
    } finally {
      gateway.runnerManager.reset();
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  it('asks runner-manager to resume the session and answers 201 with the runner', async () => {
    const launched: LaunchRunnerReply = { status: 'launched', runner: runner() };
    gateway.runnerManager.expect('runners.resume', () => launched);

    const response = await resume<LaunchRunnerReply>('s-1', {
      prompt: 'now the tests',
      model: 'sonnet',
      maxTurns: 5,
      restart: 'on-failure',
      maxRestarts: 2,
    });

    expect(response).toEqual({ status: 201, json: launched });
    expect(gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      {
        session: 's-1',
        prompt: 'now the tests',
        model: 'sonnet',
        maxTurns: 5,
        restart: 'on-failure',
        maxRestarts: 2,
        queue: false,
      },
    ]);
  });

  it('answers 202 with the queue entry when the project is full and queue is set', async () => {
    gateway.runnerManager.expect('runners.resume', () => ({
      status: 'queued',
      queuedLaunch: {
        id: randomUUID(),
        project: { id: PROJECT_ID, name: 'web' },
        position: 2,
        mode: 'headless',
        command: ['claude', '-p', '--resume', 's-2'],
        prompt: 'continue',
        createdAt: '2026-11-24T10:00:00.000Z',
        resumedFrom: 's-2',
      },
    }));
    const response = await resume<LaunchRunnerReply>('s-2', { queue: true });
    expect([response.status, response.json.status]).toEqual([202, 'queued']);
  });

  it('refuses bad fields at the edge, naming each, without asking runner-manager', async () => {
    const response = await resume('s-1', {
      maxTurns: 0,
      permissionMode: 'yolo',
      allowedTools: ['Read,Write'],
      command: ['bash'],
    });
    expect(response.status).toBe(400);
    expect(response.json.errors?.map((e) => e.field).sort()).toEqual([
      '(body)',
      'allowedTools.0',
      'maxTurns',
      'permissionMode',
    ]);
    expect(gateway.runnerManager.received).toEqual([]);
  });

  it('needs the operator scope', async () => {
    const response = await resume('s-1', {}, viewer);
    expect(response.status).toBe(403);
  });

  it.each([
    [RunnerErrorCode.SessionNotFound, 404],
    [RunnerErrorCode.SessionNotResumable, 409],
    [RunnerErrorCode.SessionStoreUnavailable, 503],
  ])('maps %s to %i with runner-manager message', async (code, status) => {
    gateway.runnerManager.expect('runners.resume', () => {
      throw Object.assign(new Error(`session s-9: ${code}`), { code });
    });
    const response = await resume('s-9', {});
    expect([response.status, response.json.code, response.json.message]).toEqual([
      status,
      code,
      `session s-9: ${code}`,
    ]);
  });
});
