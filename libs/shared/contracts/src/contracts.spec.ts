import { z } from 'zod';

import { buildEnvelope } from './build-envelope';
import { stratavoreEvents } from './catalog';
import { canonicalJson, signEnvelope } from './envelope';
import { ContractViolationError, defineEvent, EventCatalog } from './event-contract';
import { parseEnvelope } from './parse-envelope';

const key = 'k';
const runnerId = '11111111-1111-4111-8111-111111111111';
const projectId = '22222222-2222-4222-8222-222222222222';

function deps() {
  let n = 0;
  return {
    clock: { now: () => new Date('2026-03-01T00:00:00.000Z') },
    ids: { uuid: () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}` },
    signingKey: key,
  };
}

describe('EventCatalog', () => {
  const pinged = defineEvent({
    type: 'test.pinged',
    version: 1,
    data: z.object({ n: z.number() }),
  });
  const pingedV2 = defineEvent({
    type: 'test.pinged',
    version: 2,
    data: z.object({ n: z.number(), at: z.string() }),
  });
  const catalog = new EventCatalog([pinged, pingedV2]);

  it('validates data for a known type and version', () => {
    expect(catalog.validate('test.pinged', 1, { n: 1 })).toEqual({ ok: true, data: { n: 1 } });
    expect(catalog.has('test.pinged', 2)).toBe(true);
  });

  it('names the field when the type is unknown', () => {
    expect(catalog.validate('test.other', 1, {})).toEqual({
      ok: false,
      violations: [{ field: 'type', message: 'unknown event type "test.other"' }],
    });
  });

  it('names the field when the version is unknown', () => {
    const check = catalog.validate('test.pinged', 3, { n: 1 });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.violations[0]).toEqual({
      field: 'dataversion',
      message: 'unknown version 3 of "test.pinged" (known: 1, 2)',
    });
  });

  it('names the data path when data breaks the schema', () => {
    expect(() => catalog.parse('test.pinged', 2, { n: 'x' })).toThrow(ContractViolationError);
    expect(() => catalog.parse('test.pinged', 2, { n: 'x' })).toThrow(/data\.n: .*data\.at/s);
  });

  it('refuses duplicate declarations and malformed types', () => {
    expect(() => new EventCatalog([pinged, pinged])).toThrow(/declared twice/);
    expect(() => defineEvent({ type: 'Nope', version: 1, data: z.object({}) })).toThrow(
      /<aggregate>\.<event>/,
    );
  });

  it('declares the runner, heartbeat, usage and budget events (budget events also at v2)', () => {
    const types = stratavoreEvents.contracts().map((c) => `${c.type}@${c.version}`);
    expect(types.sort()).toEqual(
      [
        'budget.exceeded',
        'budget.overrun',
        'budget.refused',
        'budget.warning',
        'heartbeat.exited',
        'heartbeat.first-received',
        'heartbeat.mass-stale',
        'heartbeat.runner-stale',
        'runner.completed',
        'runner.failed',
        'runner.idle',
        'runner.launched',
        'runner.restart-cancelled',
        'runner.restart-scheduled',
        'runner.resumed-work',
        'runner.running',
        'runner.starting',
        'runner.stopped',
        'runner.stopping',
        'runner.waiting',
        'session.ended',
        'session.reported',
        'session.started',
        'session.updated',
        'usage.reported',
      ]
        .map((t) => `${t}@1`)
        .concat(['budget.exceeded@2', 'budget.warning@2'])
        .sort(),
    );
  });
});

describe('buildEnvelope', () => {
  it('validates, stamps and signs', () => {
    const envelope = buildEnvelope(
      {
        type: 'runner.failed',
        version: 1,
        source: 'heartbeat-ingest',
        subject: runnerId,
        correlationId: 'c-1',
        data: { runnerId, projectId, reason: 'heartbeat_timeout' },
      },
      deps(),
    );
    expect(envelope).toMatchObject({
      specversion: '1.0',
      id: '00000000-0000-4000-8000-000000000001',
      time: '2026-03-01T00:00:00.000Z',
      type: 'runner.failed',
      dataversion: 1,
      data: { reason: 'heartbeat_timeout' },
    });
    const parsed = parseEnvelope(JSON.stringify(envelope), key);
    expect(parsed).toEqual({ ok: true, envelope });
  });

  it('applies schema defaults before signing', () => {
    const envelope = buildEnvelope(
      {
        type: 'usage.reported',
        version: 1,
        source: 'heartbeat-ingest',
        subject: runnerId,
        correlationId: 'c-1',
        data: {
          runnerId,
          projectId,
          inputTokens: 10,
          outputTokens: 5,
          observedAt: '2026-03-01T00:00:00.000Z',
        },
      },
      deps(),
    );
    expect(envelope.data.cacheReadTokens).toBe(0);
  });

  it('throws naming the field for bad data, unknown types and empty source', () => {
    const bad = () =>
      buildEnvelope(
        {
          type: 'runner.failed',
          version: 1,
          source: 's',
          subject: runnerId,
          correlationId: 'c',
          data: { runnerId, projectId, reason: 'bored' as 'killed' },
        },
        deps(),
      );
    expect(bad).toThrow(/data\.reason/);
    const unknownType = () =>
      buildEnvelope(
        {
          type: 'runner.exploded' as 'runner.failed',
          version: 1,
          source: 's',
          subject: 'x',
          correlationId: 'c',
          data: { runnerId, projectId, reason: 'killed' },
        },
        deps(),
      );
    expect(unknownType).toThrow(/type: unknown event type "runner.exploded"/);
    const emptySource = () =>
      buildEnvelope(
        {
          type: 'runner.stopped',
          version: 1,
          source: '',
          subject: 'x',
          correlationId: 'c',
          data: { runnerId, projectId },
        },
        deps(),
      );
    expect(emptySource).toThrow(/source/);
  });
});

describe('parseEnvelope', () => {
  const good = () =>
    buildEnvelope(
      {
        type: 'runner.stopped',
        version: 1,
        source: 'runner-manager',
        subject: runnerId,
        correlationId: 'c',
        data: { runnerId, projectId, exitCode: 0 },
      },
      deps(),
    );

  it('accepts a buffer', () => {
    const parsed = parseEnvelope(Buffer.from(JSON.stringify(good())), key);
    expect(parsed.ok).toBe(true);
  });

  it('reports bad JSON', () => {
    expect(parseEnvelope('{nope', key)).toMatchObject({ ok: false, error: { kind: 'json' } });
  });

  it('reports a schema error naming the field', () => {
    const { id: _id, ...noId } = good();
    const parsed = parseEnvelope(JSON.stringify(noId), key);
    expect(parsed).toMatchObject({ ok: false, error: { kind: 'schema' } });
    expect(!parsed.ok && parsed.error.message).toMatch(/id:/);
  });

  it('reports a tampered envelope and a wrong key as signature errors', () => {
    const tampered = { ...good(), subject: 'someone-else' };
    expect(parseEnvelope(JSON.stringify(tampered), key)).toMatchObject({
      ok: false,
      error: { kind: 'signature' },
    });
    expect(parseEnvelope(JSON.stringify(good()), 'wrong')).toMatchObject({
      ok: false,
      error: { kind: 'signature' },
    });
  });

  it('reports a signed envelope whose data breaks the contract', () => {
    const { signature: _s, ...unsigned } = good();
    const resigned = signEnvelope({ ...unsigned, data: { runnerId: 'not-a-uuid' } }, key);
    const parsed = parseEnvelope(canonicalJson(resigned), key);
    expect(parsed).toMatchObject({ ok: false, error: { kind: 'contract' } });
    expect(!parsed.ok && parsed.error.message).toMatch(/data\.runnerId/);
  });

  it('skips the data contract when told to', () => {
    const { signature: _s, ...unsigned } = good();
    const foreign = signEnvelope({ ...unsigned, type: 'other.thing' }, key);
    expect(parseEnvelope(JSON.stringify(foreign), key, { catalog: null }).ok).toBe(true);
    expect(parseEnvelope(JSON.stringify(foreign), key)).toMatchObject({
      ok: false,
      error: { kind: 'contract' },
    });
  });
});
