// Event fixtures for the bus tests only (not exported from the library). Names, waiting, the
// broker URL and the TCP proxy come from @stratavore/testing.
import { randomUUID } from 'node:crypto';

import {
  buildEnvelope,
  defineEvent,
  EventCatalog,
  type EventEnvelope,
  signEnvelope,
} from '@stratavore/contracts';
import { z } from 'zod';

import { type OutgoingEvent } from './bus.ports';

export const TEST_SIGNING_KEY = 'bus-test-signing-key';

export const testPinged = defineEvent({
  type: 'test.pinged',
  version: 1,
  data: z.object({ n: z.number().int() }),
});
export const testPonged = defineEvent({
  type: 'test.ponged',
  version: 1,
  data: z.object({ n: z.number().int() }),
});
export const testCatalog = new EventCatalog([testPinged, testPonged]);

const fixedDeps = () => ({
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  signingKey: TEST_SIGNING_KEY,
  catalog: testCatalog,
});

export function pingEnvelope(n: number, type: 'test.pinged' | 'test.ponged' = 'test.pinged') {
  return buildEnvelope(
    {
      type,
      version: 1,
      source: 'bus-test',
      subject: `s-${n}`,
      correlationId: `c-${n}`,
      data: { n },
    },
    fixedDeps(),
  );
}

export function toOutgoing(envelope: EventEnvelope, routingKey = envelope.type): OutgoingEvent {
  return { routingKey, messageId: envelope.id, body: Buffer.from(JSON.stringify(envelope)) };
}

export function ping(n: number, routingKey?: string): OutgoingEvent {
  return toOutgoing(pingEnvelope(n), routingKey);
}

/** A correctly shaped envelope signed with the wrong key. */
export function forgedPing(n: number): OutgoingEvent {
  const { signature: _signature, ...unsigned } = pingEnvelope(n);
  return toOutgoing(signEnvelope(unsigned, 'not-the-key'));
}
