// Shared by the budget-service integration tests (not exported from the library).
import { randomUUID } from 'node:crypto';

import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { BudgetStore } from '@stratavore/budget-service-data-access';
import {
  buildEnvelope,
  type EventEnvelope,
  type SetBudgetRequestInput,
  setBudgetRequestSchema,
} from '@stratavore/contracts';
import { CLOCK, type Clock, ID_GENERATOR, ManualClock, RandomIdGenerator } from '@stratavore/core';
import { createMessagingDataSource, MESSAGE_BUS, type MessageBus } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';

import { BudgetBook } from './budget-book';
import { BudgetEventsConsumer } from './budget-events.consumer';
import { type BudgetServiceDeps } from './budget-service.deps';
import { BudgetServiceRequestHandler } from './budget-service.handler';
import { budgetServiceMetrics } from './budget-service.metrics';
import { BudgetServiceModule, type BudgetServiceModuleOptions } from './budget-service.module';
import { PeriodRoller } from './period-roller';

export const TEST_SIGNING_KEY = 'budget-service-test-key';

/** Migrates the `messaging` schema (outbox, inbox) of a test database. */
export async function migrateMessaging(url: string): Promise<void> {
  const dataSource = createMessagingDataSource({ url, poolSize: 1 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * budget-service's Nest module, initialised and logging nothing, on what the service runtime
 * would give it: `bus`, `clock` and random ids, provided globally.
 */
export async function startBudgetServiceModule(
  runtime: { readonly bus: MessageBus; readonly clock: Clock },
  options: BudgetServiceModuleOptions,
): Promise<TestingModule> {
  const provided = new Map<symbol, unknown>([
    [MESSAGE_BUS, runtime.bus],
    [CLOCK, runtime.clock],
    [ID_GENERATOR, new RandomIdGenerator()],
  ]);

  @Module({
    providers: [...provided].map(([provide, useValue]) => ({ provide, useValue })),
    exports: [...provided.keys()],
  })
  class RuntimeStandIn {}

  const app = await Test.createTestingModule({
    imports: [{ module: RuntimeStandIn, global: true }, BudgetServiceModule.forRoot(options)],
  }).compile();
  app.useLogger(false);
  await app.init();
  return app;
}

/** budget-service's use cases on a real store with a manual clock; the roller always leads. */
export interface BudgetHarness {
  readonly store: BudgetStore;
  readonly clock: ManualClock;
  readonly deps: BudgetServiceDeps;
  readonly handler: BudgetServiceRequestHandler;
  readonly consumer: BudgetEventsConsumer;
  readonly roller: PeriodRoller;
  readonly book: BudgetBook;
  close(): Promise<void>;
}

export async function openHarness(url: string, start: string): Promise<BudgetHarness> {
  const store = await BudgetStore.open(url, { poolSize: 4, applicationName: 'budget-test' });
  const clock = new ManualClock(start);
  const metrics = budgetServiceMetrics();
  const deps: BudgetServiceDeps = {
    store,
    clock,
    ids: new RandomIdGenerator(),
    signingKey: TEST_SIGNING_KEY,
    metrics,
  };
  const book = new BudgetBook(deps);
  return {
    store,
    clock,
    deps,
    book,
    handler: new BudgetServiceRequestHandler(deps),
    consumer: new BudgetEventsConsumer(deps),
    roller: new PeriodRoller({
      store,
      clock,
      book,
      leadership: { isLeader: () => true },
      metrics,
    }),
    close: () => store.close(),
  };
}

/** A `budgets.set` payload for a project with everything else defaulted. */
export function setRequest(overrides: Partial<SetBudgetRequestInput>): SetBudgetRequestInput {
  return setBudgetRequestSchema.parse({
    scope: { kind: 'global' },
    period: 'daily',
    limitTokens: 1000,
    ...overrides,
  });
}

export interface UsageInput {
  readonly runnerId?: string;
  readonly projectId: string;
  readonly input?: number;
  readonly output?: number;
  readonly cacheCreation?: number;
  readonly cacheRead?: number;
  readonly costUsd?: number;
  readonly observedAt: string;
}

/** A signed `usage.reported` envelope as heartbeat-ingest writes it. */
export function usageEvent(usage: UsageInput): EventEnvelope {
  const runnerId = usage.runnerId ?? randomUUID();
  return buildEnvelope(
    {
      type: 'usage.reported',
      version: 1,
      source: 'heartbeat-ingest',
      subject: runnerId,
      correlationId: `usage-${runnerId}`,
      data: {
        runnerId,
        projectId: usage.projectId,
        inputTokens: usage.input ?? 0,
        outputTokens: usage.output ?? 0,
        cacheCreationTokens: usage.cacheCreation ?? 0,
        cacheReadTokens: usage.cacheRead ?? 0,
        ...(usage.costUsd === undefined ? {} : { costUsd: usage.costUsd }),
        observedAt: usage.observedAt,
      },
    },
    {
      clock: { now: () => new Date(usage.observedAt) },
      ids: { uuid: () => randomUUID() },
      signingKey: TEST_SIGNING_KEY,
    },
  );
}

/** A signed runner event (`runner.completed`, ...) as runner-manager writes it. */
export function runnerEndedEvent(
  type: 'runner.completed' | 'runner.stopped',
  runnerId: string,
  projectId: string,
): EventEnvelope {
  return buildEnvelope(
    {
      type,
      version: 1,
      source: 'runner-manager',
      subject: runnerId,
      correlationId: `end-${runnerId}`,
      data: { runnerId, projectId, exitCode: 0 },
    },
    {
      clock: { now: () => new Date() },
      ids: { uuid: () => randomUUID() },
      signingKey: TEST_SIGNING_KEY,
    },
  );
}

/** Delivers an event to the consumer as the bus would (first attempt). */
export function deliver(harness: BudgetHarness, envelope: EventEnvelope) {
  return harness.consumer.handle({ envelope, routingKey: envelope.type, attempt: 1 });
}

/** Anything that runs SQL (a DataSource from `budgetDataSource`, a pg client wrapper). */
export interface SqlRunner {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

/** The events budget-service wrote to the outbox, oldest first, optionally of one type. */
export async function outboxEvents(dataSource: SqlRunner, type?: string): Promise<EventEnvelope[]> {
  const rows = await dataSource.query<Array<{ payload: EventEnvelope }>>(
    `SELECT payload FROM messaging.outbox
     WHERE payload->>'source' = 'budget-service' AND ($1::text IS NULL OR type = $1)
     ORDER BY position`,
    [type ?? null],
  );
  return rows.map((row) => row.payload);
}
