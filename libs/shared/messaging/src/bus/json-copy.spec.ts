import { jsonCopy } from './json-copy';

const roundTrip = (value: unknown): unknown =>
  value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}

  get sum(): number {
    return this.x + this.y;
  }
}

describe('jsonCopy', () => {
  const cases: Record<string, unknown> = {
    'a page of runners': {
      runners: [
        {
          id: '44444444-4444-4444-8444-444444444444',
          project: { id: 'p', name: 'web' },
          state: 'running',
          pid: 1234,
          exitCode: null,
          command: ['claude', '-p', 'hi'],
          createdAt: new Date('2026-11-24T10:00:00.123Z'),
          reason: undefined,
          counters: { inputTokens: 1200, outputTokens: 0 },
        },
      ],
      nextCursor: null,
    },
    'numbers JSON cannot write': [Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5e300],
    'holes and skipped items in arrays': [1, undefined, () => 1, Symbol('s'), , 5],
    'skipped properties': { a: undefined, b: () => 1, c: Symbol('s'), d: 'kept' },
    'a __proto__ key': JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as unknown,
    'an invalid date': { when: new Date(Number.NaN) },
    'a class instance': { point: new Point(1, 2) },
    'an object with toJSON': { money: { toJSON: () => '12.50 USD' } },
    'a toJSON that returns undefined': {
      gone: { toJSON: () => undefined },
      list: [{ toJSON: () => undefined }],
    },
    'a date with its own toJSON': { when: Object.assign(new Date(0), { toJSON: () => 'epoch' }) },
    'boxed primitives and collections': {
      n: new Number(3),
      s: new String('x'),
      map: new Map([[1, 2]]),
      set: new Set([1]),
      bytes: new Uint8Array([1, 2]),
    },
    'integer-like keys': { b: 1, 2: 'two', a: 3, 1: 'one' },
    'an object without prototype': Object.assign(Object.create(null) as object, { a: 1 }),
    'a shared child twice (not a cycle)': (() => {
      const child = { n: 1 };
      return { left: child, right: child, list: [child, child] };
    })(),
    'primitives at the top': ['text', 42, true, null],
  };

  it.each(Object.entries(cases))(
    'copies %s exactly as the JSON round trip does',
    (_name, value) => {
      const copied = jsonCopy(value);
      expect(copied).toStrictEqual(roundTrip(value));
      expect(JSON.stringify(copied)).toBe(JSON.stringify(roundTrip(value)));
    },
  );

  it('keeps __proto__ an own property instead of setting the prototype', () => {
    const copied = jsonCopy(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.keys(copied)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('shares nothing with the original', () => {
    const original = { nested: { list: [{ n: 1 }] } };
    const copied = jsonCopy(original) as typeof original;
    copied.nested.list[0]!.n = 2;
    expect(original.nested.list[0]!.n).toBe(1);
  });

  it('answers undefined for undefined, null for a top-level function, and throws on cycles and bigints', () => {
    expect(jsonCopy(undefined)).toBeUndefined();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = { back: cyclic };
    expect(() => jsonCopy(cyclic)).toThrow(TypeError);
    const cyclicList: unknown[] = [];
    cyclicList.push(cyclicList);
    expect(() => jsonCopy(cyclicList)).toThrow(TypeError);
    expect(() => jsonCopy({ big: 1n })).toThrow(TypeError);
  });
});
