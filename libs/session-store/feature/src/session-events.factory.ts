import {
  buildEnvelope,
  type EventEnvelope,
  SESSION_STORE_SOURCE,
  type SessionStoreEvent,
  type StratavoreEvent,
  stratavoreEvents,
} from '@stratavore/contracts';
import { type Clock, type IdGenerator } from '@stratavore/core';
import { type z } from 'zod';

type Emitted = Exclude<SessionStoreEvent, { type: 'session.reported' }>;
type EmittedType = Emitted['type'];
type DataOf<T extends EmittedType> = z.input<Extract<Emitted, { type: T }>['data']>;

/** Builds the signed envelopes session-store writes to the outbox (subject: the session id). */
export class SessionEventFactory {
  constructor(
    private readonly deps: {
      readonly clock: Clock;
      readonly ids: IdGenerator;
      readonly signingKey: string;
    },
  ) {}

  build<T extends EmittedType>(
    type: T,
    sessionId: string,
    correlationId: string,
    data: DataOf<T>,
  ): EventEnvelope {
    return buildEnvelope<StratavoreEvent>(
      {
        type,
        version: 1,
        source: SESSION_STORE_SOURCE,
        subject: sessionId,
        correlationId,
        data,
      },
      { ...this.deps, catalog: stratavoreEvents },
    );
  }
}
