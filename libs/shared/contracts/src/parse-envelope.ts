import { stratavoreEvents } from './catalog';
import { type EventEnvelope, eventEnvelopeSchema, verifyEnvelope } from './envelope';
import { type EventCatalog } from './event-contract';

/** Why an incoming message is not a trustworthy envelope. */
export type EnvelopeErrorKind = 'json' | 'schema' | 'signature' | 'contract';

export interface EnvelopeError {
  readonly kind: EnvelopeErrorKind;
  readonly message: string;
}

export type ParsedEnvelope =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly error: EnvelopeError };

export interface ParseEnvelopeOptions {
  /**
   * Contracts to validate `data` against; defaults to {@link stratavoreEvents}. Pass `null` to
   * check only the envelope and its signature (transports that carry foreign events).
   */
  readonly catalog?: EventCatalog | null;
}

/**
 * Parses and verifies an incoming envelope: JSON, envelope schema, HMAC signature, then the
 * `data` contract. Never throws; consumers branch on `ok`.
 */
export function parseEnvelope(
  input: Buffer | string,
  signingKey: string,
  options: ParseEnvelopeOptions = {},
): ParsedEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof input === 'string' ? input : input.toString('utf8'));
  } catch (error) {
    return fail('json', `not JSON: ${(error as Error).message}`);
  }
  const shape = eventEnvelopeSchema.safeParse(raw);
  if (!shape.success) {
    const detail = shape.error.issues
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    return fail('schema', `not an event envelope: ${detail}`);
  }
  const envelope = shape.data as EventEnvelope;
  if (!verifyEnvelope(envelope, signingKey)) {
    return fail('signature', `signature mismatch for event ${envelope.id} (${envelope.type})`);
  }
  const catalog = options.catalog === undefined ? stratavoreEvents : options.catalog;
  if (catalog === null) return { ok: true, envelope };
  const check = catalog.validate(envelope.type, envelope.dataversion, envelope.data);
  if (!check.ok) {
    const detail = check.violations.map((v) => `${v.field}: ${v.message}`).join('; ');
    return fail(
      'contract',
      `event ${envelope.id} (${envelope.type}) breaks its contract: ${detail}`,
    );
  }
  return { ok: true, envelope: { ...envelope, data: check.data } };
}

function fail(kind: EnvelopeErrorKind, message: string): ParsedEnvelope {
  return { ok: false, error: { kind, message } };
}
