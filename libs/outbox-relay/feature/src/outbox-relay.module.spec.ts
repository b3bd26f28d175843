import { Test } from '@nestjs/testing';
import { CLOCK, ManualClock } from '@stratavore/core';
import {
  type EventPublisher,
  type OutboxStore,
  type OutboxWakeUpSource,
} from '@stratavore/messaging';

import { OutboxRelay } from './outbox-relay';
import {
  OUTBOX_RELAY_PUBLISHER,
  OUTBOX_RELAY_STORE,
  OUTBOX_RELAY_WAKE_UPS,
  OutboxRelayModule,
} from './outbox-relay.module';

describe('OutboxRelayModule', () => {
  it('starts the relay with the application and drains it on shutdown', async () => {
    const log: string[] = [];
    const store: Pick<OutboxStore, 'claimBatch'> = {
      claimBatch: () => {
        log.push('claim');
        return Promise.resolve([]);
      },
    };
    const wakeUps: OutboxWakeUpSource = {
      start: () => {
        log.push('listening');
        return Promise.resolve();
      },
      stop: () => {
        log.push('not listening');
        return Promise.resolve();
      },
    };
    const publisher: EventPublisher = {
      publishBatch: () => Promise.reject(new Error('nothing to publish in this test')),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        OutboxRelayModule.register({
          providers: [
            { provide: OUTBOX_RELAY_STORE, useValue: store },
            { provide: OUTBOX_RELAY_PUBLISHER, useValue: publisher },
            { provide: OUTBOX_RELAY_WAKE_UPS, useValue: wakeUps },
            { provide: CLOCK, useValue: new ManualClock() },
          ],
          options: { idlePollIntervalMs: 60_000, window: 1 },
        }),
      ],
    }).compile();
    // A standalone application context: the relay service has no HTTP server of its own here.
    const app = moduleRef;
    await app.init();
    const relay = app.get(OutboxRelay);
    expect(relay.isRunning()).toBe(true);
    expect(log).toEqual(['claim', 'listening']);

    await app.close();
    expect(relay.isRunning()).toBe(false);
    expect(log).toEqual(['claim', 'listening', 'not listening']);
  });
});
