import { createHmac, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

/**
 * The envelope every Stratavore event travels in. Field names follow CloudEvents 1.0
 * (`specversion`, `id`, `source`, `type`, `time`, `subject`, `data`) with three extensions:
 * `dataversion` (the version of the `data` contract), `correlationId` and `signature`
 * (HMAC-SHA256 of the canonical form, hex).
 *
 * `type` is `<aggregate>.<event>` and doubles as the RabbitMQ routing key; `subject` is the
 * aggregate id, the unit of ordering.
 */
export const eventEnvelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z][a-z0-9_.-]*$/, 'expected <aggregate>.<event>'),
  dataversion: z.number().int().positive(),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1),
  correlationId: z.string().min(1),
  data: z.unknown(),
  signature: z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex HMAC-SHA256'),
});

export type EventEnvelope<TData = unknown> = Omit<z.infer<typeof eventEnvelopeSchema>, 'data'> & {
  data: TData;
};

export type UnsignedEnvelope<TData = unknown> = Omit<EventEnvelope<TData>, 'signature'>;

/** Deterministic JSON: object keys sorted at every level, so producer and consumer hash the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function hmac(envelope: UnsignedEnvelope, key: string): string {
  return createHmac('sha256', key).update(canonicalJson(envelope)).digest('hex');
}

/** Signs an envelope with the shared event signing key. */
export function signEnvelope<TData>(
  envelope: UnsignedEnvelope<TData>,
  key: string,
): EventEnvelope<TData> {
  return { ...envelope, signature: hmac(envelope, key) };
}

/** True when the envelope's signature matches its content under `key` (constant-time compare). */
export function verifyEnvelope(envelope: EventEnvelope, key: string): boolean {
  const { signature, ...unsigned } = envelope;
  const expected = Buffer.from(hmac(unsigned, key), 'hex');
  const actual = Buffer.from(signature, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
