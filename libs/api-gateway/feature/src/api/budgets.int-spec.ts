import { randomUUID } from 'node:crypto';

import { BUDGET_SERVICE, type BudgetView } from '@stratavore/contracts';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { FakeResponder, type GatewayUnderTest, startGateway } from '../api-gateway.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

const PROJECT_ID = '22222222-2222-4222-8222-222222222222';
const BUDGET_ID = '33333333-3333-4333-8333-333333333333';
const NOW = '2026-11-24T10:00:00.000Z';

function project(overrides: Record<string, unknown> = {}) {
  return {
    id: PROJECT_ID,
    name: 'api',
    path: '/srv/api',
    description: '',
    command: ['claude'],
    maxRunners: 2,
    env: [],
    createdAt: NOW,
    updatedAt: NOW,
    archivedAt: null,
    estimateTokens: 40_000,
    estimateUsd: null,
    ...overrides,
  };
}

function budgetView(overrides: Partial<BudgetView> = {}): BudgetView {
  return {
    id: BUDGET_ID,
    scope: { kind: 'project', projectId: PROJECT_ID },
    limits: { tokens: 1_000_000, usd: null },
    tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
    period: 'daily',
    timeZone: 'UTC',
    periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
    warnThresholds: [0.5, 0.8, 0.95],
    rollover: { enabled: false, capTokens: null, capUsd: null },
    enforcement: 'hard',
    periodStart: '2026-11-24T00:00:00.000Z',
    periodEnd: '2026-11-25T00:00:00.000Z',
    carryOver: { tokens: 0, usd: 0 },
    used: { tokens: 250_000, usd: 0 },
    reserved: { tokens: 40_000, usd: 0 },
    left: { tokens: 710_000, usd: null },
    ratio: 0.25,
    thresholdsFired: [],
    status: 'ok',
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

/** An error as a service's handler throws it: `{ code, message, details }` over the bus. */
function remoteError(code: string, message: string, details?: unknown): Error {
  return Object.assign(new Error(message), { code, details });
}

describe('budgets over HTTP', () => {
  let testDb: TestDatabase;
  let gateway: GatewayUnderTest;
  let budgetService: FakeResponder;
  let keys: { admin: string; operator: string; viewer: string };

  async function call<T = ApiErrorBody>(
    method: string,
    path: string,
    key: string = keys.viewer,
    body?: unknown,
  ) {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  beforeAll(async () => {
    testDb = await createTestDatabase('gateway_budgets');
    gateway = await startGateway({
      databaseUrl: testDb.url,
      rateLimit: { limit: 1_000, windowMs: 60_000 },
      requestTimeoutMs: 2_000,
    });
    budgetService = new FakeResponder(BUDGET_SERVICE);
    await budgetService.attach(gateway.bus);
    keys = {
      admin: (await gateway.keys.create({ name: 'admin', scope: 'admin' })).key,
      operator: (await gateway.keys.create({ name: 'operator', scope: 'operator' })).key,
      viewer: (await gateway.keys.create({ name: 'viewer', scope: 'viewer' })).key,
    };
  });

  afterEach(() => {
    try {
      gateway.runnerManager.assertSatisfied();
      budgetService.assertSatisfied();
    } finally {
      gateway.runnerManager.reset();
      budgetService.reset();
    }
  });

  afterAll(async () => {
    await gateway?.stop();
    await testDb?.drop();
  });

  it('lists budgets for a viewer, those covering a project when named', async () => {
    budgetService.expect('budgets.list', () => ({ budgets: [budgetView()] }));
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('budgets.list', () => ({ budgets: [budgetView()] }));

    expect(await call('GET', '/api/v1/budgets')).toEqual({
      status: 200,
      json: { budgets: [budgetView()] },
    });
    expect((await call('GET', '/api/v1/budgets?project=api')).status).toBe(200);

    expect(gateway.runnerManager.received.map((r) => r.payload)).toEqual([{ project: 'api' }]);
    expect(budgetService.received.map((r) => r.payload)).toEqual([{}, { projectId: PROJECT_ID }]);
  });

  it('sets a project budget by project name for an admin, with the contract defaults', async () => {
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('budgets.set', () => ({
      created: true,
      rebaselined: false,
      budget: budgetView(),
    }));

    const response = await call('PUT', '/api/v1/budgets', keys.admin, {
      scope: { kind: 'project', project: 'api' },
      limitTokens: 1_000_000,
      period: 'daily',
      timeZone: 'europe/berlin',
      warnThresholds: [0.9, 0.5],
      rollover: { enabled: true, capTokens: 100_000 },
    });

    expect(response).toEqual({
      status: 200,
      json: { created: true, rebaselined: false, budget: budgetView() },
    });
    expect(budgetService.received[0]?.payload).toEqual({
      scope: { kind: 'project', projectId: PROJECT_ID },
      limitTokens: 1_000_000,
      tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
      period: 'daily',
      timeZone: 'Europe/Berlin',
      warnThresholds: [0.5, 0.9],
      rollover: { enabled: true, capTokens: 100_000 },
      enforcement: 'hard',
    });
    expect(budgetService.received[0]?.meta.correlationId).toEqual(expect.any(String));
  });

  it('answers a bad budget with a 400 naming every field, asking no service', async () => {
    const response = await call('PUT', '/api/v1/budgets', keys.admin, {
      scope: { kind: 'project' },
      limitUsd: -5,
      period: 'hourly',
      warnThresholds: [1.5],
      extra: true,
    });

    expect(response.status).toBe(400);
    expect(response.json.code).toBe('VALIDATION_FAILED');
    expect(response.json.errors?.map((e) => e.field).sort()).toEqual(
      ['(body)', 'limitUsd', 'period', 'scope.project', 'warnThresholds.0'].sort(),
    );
    expect(
      (
        await call('PUT', '/api/v1/budgets', keys.admin, {
          scope: { kind: 'global' },
          period: 'daily',
        })
      ).json.errors,
    ).toEqual([{ field: 'limitTokens', message: 'expected limitTokens, limitUsd or both' }]);
  });

  it('needs the admin scope to write and the viewer scope to read', async () => {
    const body = { scope: { kind: 'global' }, limitTokens: 10, period: 'none' };
    expect((await call('PUT', '/api/v1/budgets', keys.operator, body)).status).toBe(403);
    expect((await call('DELETE', `/api/v1/budgets/${BUDGET_ID}`, keys.viewer)).status).toBe(403);
    expect((await call('DELETE', '/api/v1/budgets?scope=global', keys.operator)).status).toBe(403);
  });

  it('gets and removes a budget by id, or removes it by scope', async () => {
    budgetService
      .expect('budgets.get', () => budgetView())
      .expect('budgets.remove', () => ({ removed: budgetView() }))
      .expect('budgets.remove', () => ({ removed: budgetView({ scope: { kind: 'global' } }) }));
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('budgets.remove', () => ({ removed: budgetView() }));

    expect((await call('GET', `/api/v1/budgets/${BUDGET_ID}`)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/budgets/${BUDGET_ID}`, keys.admin)).status).toBe(200);
    expect((await call('DELETE', '/api/v1/budgets?scope=global', keys.admin)).status).toBe(200);
    expect((await call('DELETE', '/api/v1/budgets?project=api', keys.admin)).status).toBe(200);

    expect(budgetService.received.map((r) => r.payload)).toEqual([
      { budgetId: BUDGET_ID },
      { budgetId: BUDGET_ID },
      { scope: { kind: 'global' } },
      { scope: { kind: 'project', projectId: PROJECT_ID } },
    ]);
    const neither = await call('DELETE', '/api/v1/budgets', keys.admin);
    expect(neither.status).toBe(400);
    expect(neither.json.errors).toEqual([
      { field: 'scope', message: 'expected either scope=global or project=<name or id>' },
    ]);
    expect((await call('GET', '/api/v1/budgets/not-a-uuid')).json.errors).toEqual([
      { field: 'budgetId', message: 'expected a budget id (uuid)' },
    ]);
  });

  it("checks a launch with the project's default estimate, or the given one", async () => {
    const verdict = { allowed: true, refusals: [], softOverruns: [], budgets: [], message: null };
    // One lookup: the second check finds the project in the gateway's project cache.
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('budgets.check', () => verdict).expect('budgets.check', () => verdict);

    expect(await call('POST', '/api/v1/budgets/check', keys.viewer, { project: 'api' })).toEqual({
      status: 200,
      json: verdict,
    });
    await call('POST', '/api/v1/budgets/check', keys.viewer, {
      project: 'api',
      estimateTokens: 5,
      estimateUsd: 0.25,
    });

    expect(budgetService.received.map((r) => r.payload)).toEqual([
      { projectId: PROJECT_ID, projectName: 'api', estimate: { tokens: 40_000, usd: 0 } },
      { projectId: PROJECT_ID, projectName: 'api', estimate: { tokens: 5, usd: 0.25 } },
    ]);
    const bad = await call('POST', '/api/v1/budgets/check', keys.viewer, {
      project: 'api',
      estimateTokens: -1,
    });
    expect(bad.json.errors).toEqual([
      { field: 'estimateTokens', message: 'expected a whole number of tokens (0 or more)' },
    ]);

    // A project change through this gateway drops the cached project: the next check asks again.
    gateway.runnerManager
      .expect('projects.update', () => project({ estimateTokens: 60_000 }))
      .expect('projects.get', () => project({ estimateTokens: 60_000 }));
    budgetService.expect('budgets.check', () => verdict);
    const updated = await call('PATCH', '/api/v1/projects/api', keys.operator, {
      estimateTokens: 60_000,
    });
    expect(updated.status).toBe(200);
    await call('POST', '/api/v1/budgets/check', keys.viewer, { project: 'api' });
    expect(budgetService.received.at(-1)?.payload).toEqual({
      projectId: PROJECT_ID,
      projectName: 'api',
      estimate: { tokens: 60_000, usd: 0 },
    });
  });

  it('answers a refused check with every field of the contract (response schema)', async () => {
    const globalBudget = budgetView({
      id: randomUUID(),
      scope: { kind: 'global' },
      limits: { tokens: null, usd: 100 },
      left: { tokens: null, usd: 12.5 },
      rollover: { enabled: true, capTokens: null, capUsd: 10 },
      carryOver: { tokens: 0, usd: 2.25 },
      periodEnd: null,
      period: 'none',
      thresholdsFired: [0.5, 0.8],
      status: 'warning',
    });
    const projectBudget = budgetView({ status: 'exceeded', ratio: 1.2 });
    const shortfall = {
      budgetId: BUDGET_ID,
      scope: { kind: 'project' as const, projectId: PROJECT_ID },
      enforcement: 'hard' as const,
      period: 'daily' as const,
      dimension: 'tokens' as const,
      limit: 1_000_000,
      carryOver: 0,
      used: 990_000,
      reserved: 8_000,
      left: 2_000,
      requested: 50_000,
      periodEnd: '2026-11-25T00:00:00.000Z',
      message: 'The budget of project api (daily, tokens) cannot take 50,000 tokens: "quoted"',
    };
    const verdict = {
      allowed: false,
      refusals: [shortfall],
      softOverruns: [{ ...shortfall, scope: { kind: 'global' as const }, enforcement: 'soft' }],
      budgets: [globalBudget, projectBudget],
      message: `launch refused: ${shortfall.message}`,
    };
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('budgets.check', () => verdict);

    // By id: a key the previous test did not leave in the gateway's project cache.
    const answer = await call('POST', '/api/v1/budgets/check', keys.viewer, {
      project: PROJECT_ID,
    });

    expect(answer.status).toBe(200);
    expect(answer.json).toStrictEqual(verdict);
  });

  it('summarizes budget usage over a window', async () => {
    const summary = {
      from: '2026-11-17T10:00:00.000Z',
      to: NOW,
      timeZone: 'Europe/Berlin',
      budgets: [budgetView()],
      days: [],
      totals: {
        inputTokens: 0,
        outputTokens: 0,
        cacheCreationTokens: 0,
        cacheReadTokens: 0,
        totalTokens: 0,
        costUsd: 0,
        events: 0,
      },
    };
    gateway.runnerManager.expect('projects.get', () => project());
    budgetService.expect('usage.summary', () => summary);

    const response = await call(
      'GET',
      '/api/v1/budgets/usage?project=api&days=3&timeZone=Europe/Berlin',
    );

    expect(response).toEqual({ status: 200, json: summary });
    expect(budgetService.received[0]?.payload).toEqual({
      projectId: PROJECT_ID,
      days: 3,
      timeZone: 'Europe/Berlin',
    });
    expect((await call('GET', '/api/v1/budgets/usage?days=0')).json.errors).toEqual([
      { field: 'days', message: 'expected a number of days from 1 to 366' },
    ]);
  });

  it("maps budget-service's errors and its absence", async () => {
    budgetService.expect('budgets.get', () => {
      throw remoteError('BUDGET_NOT_FOUND', `budget ${BUDGET_ID} not found`, {
        budgetId: BUDGET_ID,
      });
    });
    expect(await call('GET', `/api/v1/budgets/${BUDGET_ID}`)).toMatchObject({
      status: 404,
      json: { code: 'BUDGET_NOT_FOUND', message: `budget ${BUDGET_ID} not found` },
    });

    await budgetService.detach();
    try {
      expect(await call('GET', '/api/v1/budgets')).toMatchObject({
        status: 503,
        json: { code: 'UPSTREAM_UNAVAILABLE' },
      });
    } finally {
      await budgetService.attach(gateway.bus);
    }
  });

  it("answers a launch a budget refuses with 402, budget-service's message and the refusal", async () => {
    const message =
      'budget of project api (daily, tokens) is exhausted: limit 1000000, used 990000, reserved 8000, left 2000, requested 40000; the period ends at 2026-11-25T00:00:00.000Z';
    const details = {
      project: 'api',
      projectId: PROJECT_ID,
      reservationId: randomUUID(),
      estimate: { tokens: 40_000, usd: 0 },
      refusals: [{ budgetId: BUDGET_ID, left: 2_000 }],
    };
    gateway.runnerManager.expect('runners.launch', () => {
      throw remoteError('BUDGET_EXCEEDED', message, details);
    });

    const response = await call<ApiErrorBody>(
      'POST',
      '/api/v1/projects/api/runners',
      keys.operator,
      {
        estimateTokens: 40_000,
      },
    );

    expect(response.status).toBe(402);
    expect(response.json).toMatchObject({ code: 'BUDGET_EXCEEDED', message, details });
    expect(gateway.runnerManager.received[0]?.payload).toMatchObject({ estimateTokens: 40_000 });
  });

  it('documents the budget routes in OpenAPI', async () => {
    const response = await fetch(`${gateway.url}/docs-json`);
    const docs = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/budgets',
        '/api/v1/budgets/{id}',
        '/api/v1/budgets/check',
        '/api/v1/budgets/usage',
      ]),
    );
    expect(Object.keys(docs.paths['/api/v1/budgets'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'put',
    ]);
  });
});
