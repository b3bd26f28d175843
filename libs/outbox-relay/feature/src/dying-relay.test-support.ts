/**
 * A relay process for `outbox-relay.amqp.int-spec.ts` (b): it claims and publishes like any
 * relay, and when it is about to mark its first batch published it tells its parent (IPC) and
 * waits there forever, so that the parent can SIGKILL it between publish and mark. Run with
 * `node -r @swc-node/register`; configured by the environment the spec passes.
 */
import { SystemClock } from '@stratavore/core';
import {
  createMessagingDataSource,
  type OutboxStore,
  PostgresOutboxStore,
  RabbitMqBus,
} from '@stratavore/messaging';

import { OutboxRelay } from './outbox-relay';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const dataSource = createMessagingDataSource({ url: required('DATABASE_URL'), poolSize: 2 });
  await dataSource.initialize();
  const real = new PostgresOutboxStore(dataSource, { leaseMs: 1_000 });
  const store: OutboxStore = {
    claimBatch: (limit) => real.claimBatch(limit),
    markPublished: (positions) => {
      process.send?.({ marking: positions.length });
      return new Promise<void>(() => undefined);
    },
    markFailed: (...args) => real.markFailed(...args),
    release: (positions) => real.release(positions),
    deadLetter: (...args) => real.deadLetter(...args),
    backlog: () => real.backlog(),
    oldestUnpublishedAge: () => real.oldestUnpublishedAge(),
  };
  const bus = new RabbitMqBus({
    url: required('AMQP_URL'),
    exchange: required('RELAY_EXCHANGE'),
    deadLetterExchange: required('RELAY_DLX'),
    unroutedExchange: required('RELAY_UNROUTED'),
    signingKey: required('RELAY_SIGNING_KEY'),
    serviceName: 'dying-relay',
    catalog: null,
    publishTimeoutMs: 2_000,
  });
  await bus.connect();
  // Several batches in flight: the first one's mark hangs, the others settle behind it.
  const relay = new OutboxRelay({
    store,
    publisher: bus,
    clock: new SystemClock(),
    options: { batchSize: 20, window: 3, idlePollIntervalMs: 60_000 },
  });
  await relay.start();
  process.send?.({ started: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
