import { SystemClock } from '@stratavore/core';
import {
  createMessagingDataSource,
  Inbox,
  InProcessBus,
  OutboxListener,
  OutboxWriter,
  PostgresOutboxStore,
} from '@stratavore/messaging';
import { runMigrations, withTransaction } from '@stratavore/persistence';
import { createTestDatabase, type TestDatabase, waitFor } from '@stratavore/testing';
import { type DataSource } from 'typeorm';

import { OutboxRelay } from './outbox-relay';
import { relayTestEvent } from './relay-events.test-support';

const SIGNING_KEY = 'outbox-relay-in-process-int-spec-key';
const CONSUMER = 'in-process-int-spec';

interface Processed {
  readonly id: string;
  readonly subject: string;
  readonly seq: number;
}

/**
 * The daemon's pipeline: the relay on PostgreSQL publishing to the in-process bus, whose queues
 * are memory. A stop must not lose what was confirmed, whatever order the relay and the consumer
 * stop in, and the next start must deliver the rest.
 */
describe('OutboxRelay on the in-process bus, across a stop', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const writer = new OutboxWriter();
  const inbox = new Inbox();

  beforeEach(async () => {
    database = await createTestDatabase('outbox_relay_in_process');
    dataSource = createMessagingDataSource({ url: database.url, poolSize: 6 });
    await dataSource.initialize();
    await runMigrations(dataSource);
  });

  afterEach(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  /**
   * One start of the daemon's pipeline: bus held until its consumer subscribed, as main does.
   * With `pauseAt`, the consumer stops before its next event once it handled that many, until the
   * stop begins: the stop then finds events queued, in flight and not yet claimed.
   */
  async function start(processed: Processed[], pauseAt = Infinity) {
    const bus = new InProcessBus({ signingKey: SIGNING_KEY, catalog: null, holdUntilOpen: true });
    await bus.connect();
    const listener = new OutboxListener({ url: database.url, reconnectDelayMs: 100 });
    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      publisher: bus,
      clock: new SystemClock(),
      wakeUps: listener,
      options: { batchSize: 50, window: 4, backoffBaseMs: 20, backoffMaxMs: 100 },
    });
    await relay.start();
    let paused = false;
    let resume!: () => void;
    const gate = new Promise<void>((resolve) => (resume = resolve));
    const subscription = await bus.subscribe(
      { consumer: CONSUMER, patterns: ['test.*'] },
      async ({ envelope: event }) => {
        if (processed.length >= pauseAt) {
          paused = true;
          await gate;
        }
        await inbox.runOnce(dataSource, CONSUMER, event.id, () => {
          const { seq } = event.data as { seq: number };
          processed.push({ id: event.id, subject: event.subject, seq });
          return Promise.resolve();
        });
        return 'ack';
      },
    );
    bus.open();
    return {
      paused: () => paused,
      async stop(consumerFirst: boolean) {
        // The consumer goes on only after the first step of the stop has begun.
        resume();
        if (consumerFirst) await subscription.cancel();
        await relay.stop();
        await subscription.cancel();
        await bus.close();
        await listener.stop();
      },
    };
  }

  async function outbox() {
    const rows = await dataSource.query<Array<{ event_id: string; published: boolean }>>(
      `SELECT event_id, published_at IS NOT NULL AS published FROM messaging.outbox`,
    );
    return {
      published: rows.filter((r) => r.published).map((r) => r.event_id),
      pending: rows.filter((r) => !r.published).length,
    };
  }

  it.each([
    ['the consumer stops first', true],
    ['the relay stops first', false],
  ])('loses no event when %s, and delivers the rest once after a restart', async (_, first) => {
    const subjects = 8;
    const total = 400;
    const events = Array.from({ length: total }, (_unused, i) =>
      relayTestEvent(SIGNING_KEY, 'test.happened', `s${i % subjects}`, i),
    );
    for (let i = 0; i < total; i += 50) {
      await withTransaction(dataSource, (manager) =>
        writer.append(manager, events.slice(i, i + 50)),
      );
    }

    const processed: Processed[] = [];
    const firstRun = await start(processed, 60);
    await waitFor(firstRun.paused, { description: 'the first 60 events handled' });
    await firstRun.stop(first);

    const afterStop = await outbox();
    const handled = new Set(processed.map((p) => p.id));
    // Marked published means handled: nothing confirmed was still only in memory.
    expect(afterStop.published.filter((id) => !handled.has(id))).toEqual([]);
    // The stop really cut the stream short, so the restart below has something to deliver.
    expect(afterStop.pending).toBeGreaterThan(0);

    const secondRun = await start(processed);
    await waitFor(async () => (await outbox()).pending === 0, {
      timeoutMs: 20_000,
      description: 'every event published after the restart',
    });
    await secondRun.stop(false);

    // Each event handled exactly once (the inbox absorbed the redeliveries), none missing.
    expect(processed).toHaveLength(total);
    expect(new Set(processed.map((p) => p.id)).size).toBe(total);
    for (let s = 0; s < subjects; s += 1) {
      const seqs = processed.filter((p) => p.subject === `s${s}`).map((p) => p.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});
