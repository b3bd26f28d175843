import { randomUUID } from 'node:crypto';

import {
  buildEnvelope,
  defineEvent,
  EventCatalog,
  type EventContract,
  type EventEnvelope,
  runnerEvents,
} from '@stratavore/contracts';
import { createMessagingDataSource, type MessageBus } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';

import { hashRunnerToken } from './heartbeat-auth';
import { TEST_SIGNING_KEY } from './heartbeat-ingest.test-support';
import { runnerRegistrationSchema } from './runner-registry.consumer';

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

/** runner.launched as heartbeat-ingest needs it (with the token hash and the interval). */
const launchedCatalog = new EventCatalog([
  defineEvent({ type: 'runner.launched', version: 1, data: runnerRegistrationSchema }),
  ...runnerEvents.filter((c) => c.type !== 'runner.launched'),
]);

export interface TestRunner {
  readonly runnerId: string;
  readonly projectId: string;
  readonly token: string;
}

export function newRunner(): TestRunner {
  return { runnerId: randomUUID(), projectId: randomUUID(), token: randomUUID() };
}

export function runnerEvent(type: string, data: Record<string, unknown>): EventEnvelope {
  // Test events are built against the catalog below, typed loosely on purpose.
  return buildEnvelope<EventContract>(
    {
      type,
      version: 1,
      source: 'runner-manager',
      subject: String(data.runnerId),
      correlationId: 'test',
      data,
    },
    {
      clock: { now: () => new Date() },
      ids: { uuid: () => randomUUID() },
      signingKey: TEST_SIGNING_KEY,
      catalog: launchedCatalog,
    },
  );
}

export function launchedEvent(runner: TestRunner, heartbeatIntervalMs = 10_000): EventEnvelope {
  return runnerEvent('runner.launched', {
    runnerId: runner.runnerId,
    projectId: runner.projectId,
    tokenHash: hashRunnerToken(runner.token),
    heartbeatIntervalMs,
  });
}

export async function publish(bus: MessageBus, envelopes: readonly EventEnvelope[]): Promise<void> {
  const outcomes = await bus.publishBatch(
    envelopes.map((e) => ({
      routingKey: e.type,
      messageId: e.id,
      body: Buffer.from(JSON.stringify(e)),
    })),
  );
  if (outcomes.some((o) => !o.ok)) throw new Error(`publish failed: ${JSON.stringify(outcomes)}`);
}
