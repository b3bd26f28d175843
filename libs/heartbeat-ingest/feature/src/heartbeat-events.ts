import {
  buildEnvelope,
  type EventEnvelope,
  HEARTBEAT_INGEST_SOURCE,
  type HeartbeatIngestEvent,
  type sessionReportedV1,
  type StratavoreEvent,
  stratavoreEvents,
  type usageReportedV1,
} from '@stratavore/contracts';
import { type Clock, type IdGenerator } from '@stratavore/core';
import { type z } from 'zod';

type Emitted = HeartbeatIngestEvent | typeof usageReportedV1 | typeof sessionReportedV1;
type EmittedType = Emitted['type'];
type DataOf<T extends EmittedType> = z.input<Extract<Emitted, { type: T }>['data']>;

/** Builds the signed envelopes heartbeat-ingest writes to the outbox. */
export class HeartbeatEventFactory {
  constructor(
    private readonly deps: {
      readonly clock: Clock;
      readonly ids: IdGenerator;
      readonly signingKey: string;
    },
  ) {}

  build<T extends EmittedType>(
    type: T,
    subject: string,
    correlationId: string,
    data: DataOf<T>,
  ): EventEnvelope {
    return buildEnvelope<StratavoreEvent | HeartbeatIngestEvent>(
      { type, version: 1, source: HEARTBEAT_INGEST_SOURCE, subject, correlationId, data },
      { ...this.deps, catalog: stratavoreEvents },
    );
  }
}
