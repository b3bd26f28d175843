import { randomUUID } from 'node:crypto';

import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { budgetDataSource } from '@stratavore/budget-service-data-access';
import {
  BUDGET_SERVICE,
  type ReserveBudgetReply,
  type SetBudgetReply,
} from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, RandomIdGenerator, SystemClock } from '@stratavore/core';
import { InProcessBus, MESSAGE_BUS } from '@stratavore/messaging';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';

import { migrateMessaging, TEST_SIGNING_KEY } from './budget-service.int-test-support';
import { BudgetServiceModule } from './budget-service.module';
import { ReservedSampler } from './reserved-sampler.test-support';

/** One budget-service instance: its own Nest application, bus and connection pool. */
async function startInstance(url: string): Promise<{ app: TestingModule; bus: InProcessBus }> {
  const bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, requestTimeoutMs: 120_000 });
  await bus.connect();

  @Module({
    providers: [
      { provide: MESSAGE_BUS, useValue: bus },
      { provide: CLOCK, useValue: new SystemClock() },
      { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
    ],
    exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
  })
  class RuntimeStandIn {}

  const app = await Test.createTestingModule({
    imports: [
      { module: RuntimeStandIn, global: true },
      BudgetServiceModule.forRoot({
        databaseUrl: url,
        signingKey: TEST_SIGNING_KEY,
        poolSize: 8,
        // 1,000 requests queue for 2 x 8 connections; none may give up while it waits.
        connectTimeoutMs: 120_000,
        rollerTimer: false,
      }),
    ],
  }).compile();
  app.useLogger(false);
  await app.init();
  return { app, bus };
}

describe('concurrent reservations through two budget-service instances', () => {
  let db: TestDatabase;
  let instances: Array<{ app: TestingModule; bus: InProcessBus }> = [];
  let sql: ReturnType<typeof budgetDataSource>;

  beforeAll(async () => {
    db = await createTestDatabase('budget_concurrency');
    await migrateMessaging(db.url);
    instances = [await startInstance(db.url), await startInstance(db.url)];
    sql = budgetDataSource(db.url, { poolSize: 2 });
    await sql.initialize();
  });

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.app.close()));
    await Promise.all(instances.map((i) => i.bus.close()));
    await sql?.destroy();
    await db?.drop();
  });

  it('keeps the reserved sum of every budget within its limit at every moment, 1,000 requests', async () => {
    const [first, second] = instances;
    if (!first || !second) throw new Error('two instances expected');
    const capped = randomUUID();
    const open = randomUUID();
    const global = await first.bus.request<SetBudgetReply>(BUDGET_SERVICE, 'budgets.set', {
      scope: { kind: 'global' },
      limitTokens: 100_000,
      period: 'daily',
    });
    const project = await second.bus.request<SetBudgetReply>(BUDGET_SERVICE, 'budgets.set', {
      scope: { kind: 'project', projectId: capped },
      limitTokens: 60_000,
      period: 'daily',
    });
    const limits = new Map([
      [global.budget.id, 100_000],
      [project.budget.id, 60_000],
    ]);

    const sampler = new ReservedSampler(sql, limits);
    const sampling = sampler.run();
    const estimate = 150;
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const instance = i % 2 === 0 ? first : second;
        const projectId = i % 4 < 2 ? capped : open;
        return instance.bus
          .request<ReserveBudgetReply>(BUDGET_SERVICE, 'budgets.reserve', {
            reservationId: randomUUID(),
            runnerId: randomUUID(),
            projectId,
            estimate: { tokens: estimate },
          })
          .then((reply) => ({ reply, projectId }));
      }),
    );
    const samples = await sampler.stop(sampling);

    const granted = replies.filter((r) => r.reply.status === 'granted');
    const grantedCapped = granted.filter((r) => r.projectId === capped).length;
    // Every grant holds 150 in the global budget: exactly as many as fit (100,000 / 150).
    expect(granted).toHaveLength(Math.floor(100_000 / estimate));
    expect(grantedCapped).toBeLessThanOrEqual(Math.floor(60_000 / estimate));
    expect(replies.filter((r) => r.reply.status === 'refused')).toHaveLength(1000 - granted.length);
    for (const { reply } of replies) {
      if (reply.status === 'refused') {
        expect(reply.refusals[0]).toMatchObject({ dimension: 'tokens', requested: estimate });
        expect(reply.refusals[0]?.left).toBeLessThan(estimate);
      }
    }

    // Continuously: no sample ever saw a budget's reserved sum above its limit.
    expect(samples.violations).toEqual([]);
    expect(samples.count).toBeGreaterThan(1);
    // And at the end.
    const final = await sampler.sample();
    expect(final.get(global.budget.id)).toBe(granted.length * estimate);
    expect(final.get(project.budget.id)).toBe(grantedCapped * estimate);
  });
});
