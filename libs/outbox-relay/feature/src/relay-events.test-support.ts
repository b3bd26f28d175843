import { randomUUID } from 'node:crypto';

import { type EventEnvelope, signEnvelope } from '@stratavore/contracts';

/** A signed event for the relay specs: `data.seq` tells the order it was committed in. */
export function relayTestEvent(
  signingKey: string,
  type: string,
  subject: string,
  seq: number,
): EventEnvelope {
  return signEnvelope(
    {
      specversion: '1.0',
      id: randomUUID(),
      source: 'int-spec',
      type,
      dataversion: 1,
      time: new Date().toISOString(),
      subject,
      correlationId: randomUUID(),
      data: { seq },
    },
    signingKey,
  );
}
