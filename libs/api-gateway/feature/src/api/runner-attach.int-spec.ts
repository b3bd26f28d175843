import { randomUUID } from 'node:crypto';

import { type AttachRunnerReply, RunnerErrorCode, type RunnerReply } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type GatewayUnderTest, startGateway } from '../api-gateway.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

const PROJECT_ID = '22222222-2222-4222-8222-222222222222';

function attached(): AttachRunnerReply {
  const runner: RunnerReply = {
    id: randomUUID(),
    project: { id: PROJECT_ID, name: 'web' },
    state: 'starting',
    desiredState: 'run',
    mode: 'interactive',
    command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
    prompt: null,
    pid: null,
    agentPid: null,
    host: 'laptop',
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
    resumedFrom: null,
    restartPolicy: 'no',
    maxRestarts: 0,
    restartOf: null,
    restarts: 0,
    restart: null,
    attached: true,
    activity: null,
  };
  return {
    runner,
    token: 'runner-token-in-clear',
    heartbeatUrl: 'http://127.0.0.1:7414',
    heartbeatIntervalMs: 10_000,
  };
}

describe('POST /api/v1/projects/:name/runners/attach', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let operator: string;
  let viewer: string;

  async function attach<T = ApiErrorBody>(name: string, body: unknown, key: string = operator) {
    const response = await fetch(`${gateway.url}/api/v1/projects/${name}/runners/attach`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_runner_attach');
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

  it('registers the runner through runner-manager and answers 201 with its token', async () => {
    const reply = attached();
    gateway.runnerManager.expect('runners.attach', () => reply);

    const response = await attach<AttachRunnerReply>('web', {
      command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
      cwd: '/srv/web',
      host: 'laptop',
      estimateTokens: 1000,
    });

    expect(response).toEqual({ status: 201, json: reply });
    expect(gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      {
        project: 'web',
        command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
        cwd: '/srv/web',
        host: 'laptop',
        estimateTokens: 1000,
      },
    ]);
  });

  it('refuses bad fields at the edge, naming each, without asking runner-manager', async () => {
    const response = await attach('web', { cwd: 'relative', command: [], queue: true });
    expect(response.status).toBe(400);
    expect(response.json.errors?.map((e) => e.field).sort()).toEqual([
      '(body)',
      'command',
      'cwd',
      'host',
    ]);
    expect(gateway.runnerManager.received).toEqual([]);
  });

  it('needs the operator scope', async () => {
    expect((await attach('web', { host: 'laptop' }, viewer)).status).toBe(403);
  });

  it('answers a full project 409 QUOTA_EXCEEDED (an attach is never queued)', async () => {
    gateway.runnerManager.expect('runners.attach', () => {
      throw Object.assign(
        new Error('project web allows 1 concurrent runner; held by r1 (waiting)'),
        {
          code: RunnerErrorCode.QuotaExceeded,
        },
      );
    });
    const response = await attach('web', { host: 'laptop' });
    expect([response.status, response.json.code]).toEqual([409, RunnerErrorCode.QuotaExceeded]);
  });
});
