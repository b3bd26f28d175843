import { randomUUID } from 'node:crypto';

import { Test, type TestingModule } from '@nestjs/testing';
import {
  BUDGET_SERVICE,
  buildEnvelope,
  type LaunchRunnerReply,
  type ProjectReply,
  RUNNER_MANAGER_SERVICE,
  RunnerErrorCode,
  type RunnerReply,
} from '@stratavore/contracts';
import { RandomIdGenerator, SystemClock } from '@stratavore/core';
import { InProcessBus, RemoteRequestError, type Subscription } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';

import { RunnerManagerModule } from './runner-manager.module';
import {
  FakeLauncher,
  migrateMessaging,
  runtimeStandIn,
  TEST_SIGNING_KEY,
} from './runner-manager.test-support';

const REFUSAL =
  'budget of project metered (daily, tokens) is exhausted: limit 1000, used 1000, reserved 0, left 0, requested 0; the period ends at 2026-11-25T00:00:00.000Z';

describe('RunnerManagerModule with BUDGETS=enforce over the in-process bus', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let bus: InProcessBus;
  let budgetService: Subscription | null = null;
  const launcher = new FakeLauncher();
  const received: Array<{ pattern: string; payload: Record<string, unknown> }> = [];
  let answer: (pattern: string, payload: Record<string, unknown>) => unknown;

  async function attachBudgetService(): Promise<void> {
    budgetService = await bus.respond(BUDGET_SERVICE, (pattern, payload) => {
      received.push({ pattern, payload: payload as Record<string, unknown> });
      return Promise.resolve(answer(pattern, payload as Record<string, unknown>));
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('runner_manager_budgets');
    await migrateMessaging(db.url);
    bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, requestTimeoutMs: 2_000 });
    await bus.connect();

    app = await Test.createTestingModule({
      imports: [
        runtimeStandIn(bus),
        RunnerManagerModule.forRoot({
          databaseUrl: db.url,
          signingKey: TEST_SIGNING_KEY,
          launcher: { instance: launcher },
          poolSize: 4,
          budgets: 'enforce',
          budgetRequestTimeoutMs: 1_000,
        }),
      ],
    }).compile();
    app.useLogger(false);
    await app.init();
    await attachBudgetService();
  });

  afterAll(async () => {
    await budgetService?.cancel();
    await app?.close();
    await bus?.close();
    await db?.drop();
  });

  const request = <T>(pattern: string, payload: unknown) =>
    bus.request<T>(RUNNER_MANAGER_SERVICE, pattern, payload);

  async function remoteError(promise: Promise<unknown>): Promise<RemoteRequestError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof RemoteRequestError) return error;
      throw error;
    }
    throw new Error('expected a remote error');
  }

  it('reserves through budgets.reserve before launching, and answers a refusal with BUDGET_EXCEEDED', async () => {
    const project = await request<ProjectReply>('projects.create', {
      name: 'metered',
      path: '/srv/metered',
      maxRunners: 2,
      estimateTokens: 2_000,
    });
    expect(project).toMatchObject({ estimateTokens: 2_000, estimateUsd: null });
    answer = (_pattern, payload) => ({
      status: 'granted',
      reservationId: payload.reservationId,
      reservations: [],
      leftTokens: null,
      leftUsd: null,
      softOverruns: [],
    });

    const launched = await request<LaunchRunnerReply>('runners.launch', {
      project: 'metered',
      estimateUsd: 0.5,
    });

    if (launched.status !== 'launched') throw new Error('expected a launch');
    expect(received).toEqual([
      {
        pattern: 'budgets.reserve',
        payload: {
          reservationId: expect.any(String) as string,
          runnerId: launched.runner.id,
          projectId: project.id,
          projectName: 'metered',
          estimate: { tokens: 2_000, usd: 0.5 },
        },
      },
    ]);

    answer = (_pattern, payload) => ({
      status: 'refused',
      reservationId: payload.reservationId,
      message: REFUSAL,
      refusals: [
        {
          budgetId: randomUUID(),
          scope: { kind: 'project', projectId: project.id },
          enforcement: 'hard',
          period: 'daily',
          dimension: 'tokens',
          limit: 1000,
          carryOver: 0,
          used: 1000,
          reserved: 0,
          left: 0,
          requested: 0,
          periodEnd: '2026-11-25T00:00:00.000Z',
          message: REFUSAL,
        },
      ],
    });
    const error = await remoteError(
      request('runners.launch', { project: 'metered', estimateTokens: 0 }),
    );
    expect(error.code).toBe(RunnerErrorCode.BudgetExceeded);
    expect(error.message).toContain(REFUSAL);
    expect(error.details).toMatchObject({
      project: 'metered',
      estimate: { tokens: 0, usd: 0 },
      refusals: [{ left: 0, periodEnd: '2026-11-25T00:00:00.000Z' }],
    });
  });

  it('fails a launch with BUDGET_UNAVAILABLE while budget-service does not answer', async () => {
    await budgetService?.cancel();
    budgetService = null;
    try {
      const error = await remoteError(request('runners.launch', { project: 'metered' }));
      expect(error.code).toBe(RunnerErrorCode.BudgetUnavailable);
      expect(error.message).toMatch(/budget-service unavailable: no responder for budget-service/);
    } finally {
      await attachBudgetService();
    }
  });

  it('stops the runners of a hard budget on budget.exceeded from the bus', async () => {
    const runners = await request<{ runners: RunnerReply[] }>('runners.list', {
      project: 'metered',
      states: ['starting'],
    });
    expect(runners.runners).toHaveLength(1);
    const [runner] = runners.runners;
    const project = await request<ProjectReply>('projects.get', { project: 'metered' });
    const envelope = buildEnvelope(
      {
        type: 'budget.exceeded',
        version: 2,
        source: 'budget-service',
        subject: randomUUID(),
        correlationId: 'exceeded',
        data: {
          budgetId: randomUUID(),
          scope: { kind: 'project', projectId: project.id },
          projectId: project.id,
          period: 'daily',
          periodStart: '2026-11-24T00:00:00.000Z',
          periodEnd: '2026-11-25T00:00:00.000Z',
          enforcement: 'hard',
          limitTokens: 1000,
          limitUsd: null,
          usedTokens: 1000,
          usedUsd: 0,
          reservedTokens: 0,
          reservedUsd: 0,
          ratio: 1,
          message: REFUSAL,
          exceededOn: ['tokens'],
        },
      },
      {
        clock: new SystemClock(),
        ids: new RandomIdGenerator(),
        signingKey: TEST_SIGNING_KEY,
      },
    );
    const [outcome] = await bus.publishBatch([
      {
        routingKey: envelope.type,
        messageId: envelope.id,
        body: Buffer.from(JSON.stringify(envelope)),
      },
    ]);
    expect(outcome?.ok).toBe(true);

    await waitFor(
      async () => {
        const got = await request<RunnerReply>('runners.get', { runner: runner?.id });
        return got.state === 'stopped' ? got : null;
      },
      { description: 'the starting runner to be stopped', timeoutMs: 10_000 },
    );
    expect(bus.deadLetters()).toEqual([]);
  });
});
