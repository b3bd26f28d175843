import { type z } from 'zod';

import { type StratavoreEvent, stratavoreEvents } from './catalog';
import { type EventEnvelope, eventEnvelopeSchema, signEnvelope } from './envelope';
import { ContractViolationError, type EventCatalog, type EventContract } from './event-contract';

/** Structural twins of `@stratavore/core`'s Clock and IdGenerator (contracts depend on zod only). */
export interface EnvelopeClock {
  now(): Date;
}
export interface EnvelopeIds {
  uuid(): string;
}

type ContractFor<C extends EventContract, T, V> = Extract<C, { type: T; version: V }>;

export interface EnvelopeInput<C extends EventContract, T extends C['type'], V extends number> {
  readonly type: T;
  readonly version: V;
  /** The service that emits the event (`runner-manager`). */
  readonly source: string;
  /** The aggregate id; the unit of ordering. */
  readonly subject: string;
  readonly data: z.input<ContractFor<C, T, V>['data']>;
  readonly correlationId: string;
}

export interface EnvelopeDeps<C extends EventContract> {
  readonly clock: EnvelopeClock;
  readonly ids: EnvelopeIds;
  readonly signingKey: string;
  /** Defaults to {@link stratavoreEvents}. */
  readonly catalog?: EventCatalog<C>;
}

/**
 * Builds a signed envelope: validates `data` against the catalog contract for (`type`,
 * `version`), stamps id and time from the injected sources, then signs.
 * Throws {@link ContractViolationError} naming the offending field.
 */
export function buildEnvelope<
  C extends EventContract = StratavoreEvent,
  T extends C['type'] = C['type'],
  V extends ContractFor<C, T, number>['version'] = ContractFor<C, T, number>['version'],
>(
  input: EnvelopeInput<C, T, V>,
  deps: EnvelopeDeps<C>,
): EventEnvelope<z.output<ContractFor<C, T, V>['data']>> {
  const catalog: EventCatalog = deps.catalog ?? stratavoreEvents;
  const data = catalog.parse(input.type, input.version, input.data);
  const unsigned = {
    specversion: '1.0' as const,
    id: deps.ids.uuid(),
    source: input.source,
    type: input.type,
    dataversion: input.version,
    time: deps.clock.now().toISOString(),
    subject: input.subject,
    correlationId: input.correlationId,
    data,
  };
  const envelope = signEnvelope(unsigned, deps.signingKey);
  const check = eventEnvelopeSchema.safeParse(envelope);
  if (!check.success) {
    throw new ContractViolationError(
      input.type,
      check.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.') || '(envelope)',
        message: issue.message,
      })),
    );
  }
  return envelope as EventEnvelope<z.output<ContractFor<C, T, V>['data']>>;
}
