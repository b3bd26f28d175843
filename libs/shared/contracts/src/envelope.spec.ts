import { canonicalJson, type EventEnvelope, signEnvelope, verifyEnvelope } from './envelope';

const key = 'test-signing-key';

function unsigned(): Omit<EventEnvelope, 'signature'> {
  return {
    specversion: '1.0',
    id: '00000000-0000-4000-8000-000000000001',
    source: 'runner-manager',
    type: 'runner.launched',
    dataversion: 1,
    time: '2026-03-01T00:00:00.000Z',
    subject: 'runner-1',
    correlationId: 'corr-1',
    data: { b: 2, a: { y: [1, { d: 4, c: 3 }], x: null } },
  };
}

describe('canonicalJson', () => {
  it('is independent of key order at every level', () => {
    const left = { a: 1, b: { c: [1, 2], d: 'x' } };
    const right = { b: { d: 'x', c: [1, 2] }, a: 1 };
    expect(canonicalJson(left)).toBe(canonicalJson(right));
    expect(canonicalJson(left)).toBe('{"a":1,"b":{"c":[1,2],"d":"x"}}');
  });

  it('drops undefined properties and keeps array order', () => {
    expect(canonicalJson({ a: undefined, b: [2, 1] })).toBe('{"b":[2,1]}');
  });
});

describe('signEnvelope / verifyEnvelope', () => {
  it('round-trips, also through JSON with keys reordered', () => {
    const signed = signEnvelope(unsigned(), key);
    expect(verifyEnvelope(signed, key)).toBe(true);
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(signed).reverse())),
    ) as EventEnvelope;
    expect(verifyEnvelope(reordered, key)).toBe(true);
  });

  it('fails when any field is tampered with', () => {
    const signed = signEnvelope(unsigned(), key);
    expect(verifyEnvelope({ ...signed, subject: 'runner-2' }, key)).toBe(false);
    expect(verifyEnvelope({ ...signed, data: { b: 3, a: { y: [], x: null } } }, key)).toBe(false);
    expect(verifyEnvelope({ ...signed, dataversion: 2 }, key)).toBe(false);
  });

  it('fails under the wrong key', () => {
    const signed = signEnvelope(unsigned(), key);
    expect(verifyEnvelope(signed, 'other-key')).toBe(false);
  });

  it('rejects a malformed signature without throwing', () => {
    const signed = signEnvelope(unsigned(), key);
    expect(verifyEnvelope({ ...signed, signature: 'abc' }, key)).toBe(false);
  });
});
