import { randomUUID } from 'node:crypto';

import { type RunnerReply } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { type GatewayOptionsInput } from './api-gateway.options';
import { type GatewayUnderTest, startGateway } from './api-gateway.test-support';
import { type ApiErrorBody } from './http/http-error-mapping';

export const SUITE_PROJECT_ID = '22222222-2222-4222-8222-222222222222';

/** A gateway on its own test database, with runner-manager faked, and one key per scope. */
export interface GatewaySuite {
  readonly gateway: GatewayUnderTest;
  readonly operator: string;
  readonly viewer: string;
  /** One request with `key` as bearer (`null`: none) and `body` as JSON when given. */
  call<T = ApiErrorBody>(
    method: string,
    path: string,
    key: string | null,
    body?: unknown,
  ): Promise<{ status: number; json: T }>;
}

/**
 * Registers the suite's hooks: a fresh database and gateway (`options` over the suite's) before
 * all tests, the fake runner-manager's expectations checked and reset after each, everything
 * stopped after all.
 * Read the returned object's fields inside tests (they are set in `beforeAll`).
 */
export function useGatewaySuite(
  databaseName: string,
  options: Partial<GatewayOptionsInput> = {},
): GatewaySuite {
  let testDb: TestDatabase | undefined;
  let gateway: GatewayUnderTest | undefined;
  let operator = '';
  let viewer = '';
  const started = (): GatewayUnderTest => {
    if (gateway === undefined) throw new Error('the gateway suite has not started yet');
    return gateway;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase(databaseName);
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 2_000,
      ...options,
    });
    operator = (await gateway.keys.create({ name: 'op', scope: 'operator' })).key;
    viewer = (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key;
  });

  afterEach(() => {
    try {
      gateway?.runnerManager.assertSatisfied();
    } finally {
      gateway?.runnerManager.reset();
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  return {
    get gateway() {
      return started();
    },
    get operator() {
      return operator;
    },
    get viewer() {
      return viewer;
    },
    async call<T = ApiErrorBody>(method: string, path: string, key: string | null, body?: unknown) {
      const headers: Record<string, string> = {};
      if (key !== null) headers['authorization'] = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${started().url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as T };
    },
  };
}

/** A runner as runner-manager answers it: a fresh `starting` headless runner of project `web`. */
export function runnerReplyFixture(overrides: Partial<RunnerReply> = {}): RunnerReply {
  return {
    id: randomUUID(),
    project: { id: SUITE_PROJECT_ID, name: 'web' },
    state: 'starting',
    desiredState: 'run',
    mode: 'headless',
    command: ['claude', '-p', '--output-format', 'stream-json', '--verbose'],
    prompt: null,
    pid: null,
    agentPid: null,
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
    resumedFrom: null,
    restartPolicy: 'no',
    maxRestarts: 0,
    restartOf: null,
    restarts: 0,
    restart: null,
    ...overrides,
  };
}
