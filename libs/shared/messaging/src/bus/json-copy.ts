/**
 * What `JSON.parse(JSON.stringify(value))` returns, built without the JSON text in between: the
 * in-process bus hands every request and reply over this way, so that both buses deliver the
 * same values (dates as ISO strings, `undefined` properties gone, `NaN` as `null`, no shared
 * objects between sender and receiver).
 *
 * Plain objects, arrays, strings, numbers, booleans, `null` and dates are copied directly, 2-5
 * times faster than the round trip and with a fraction of its garbage (no intermediate string):
 * pages of runners cross the bus twice per API read (docs/benchmarks.md, "api-read"). Anything
 * else (class instances, objects with their own `toJSON`, boxed primitives, typed arrays, maps)
 * goes through the round trip itself, so its result is exactly JSON's. A cycle throws a
 * `TypeError` as `JSON.stringify` does; `undefined` at the top stays `undefined`.
 */
export function jsonCopy(value: unknown): unknown {
  if (value === undefined) return undefined;
  const copied = copy(value, new Set());
  return copied === OMITTED ? undefined : copied;
}

/** What JSON writes nothing for (a `toJSON` returning `undefined`, a symbol): left out. */
const OMITTED = Symbol('omitted');

function copy(value: unknown, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON writes -0 as 0 and non-finite numbers as null.
      return Number.isFinite(value) ? value + 0 : null;
    case 'object':
      if (value === null) return null;
      break;
    default:
      return roundTrip(value);
  }
  if (value instanceof Date && value.toJSON === Date.prototype.toJSON) return value.toJSON();
  if (Array.isArray(value)) return copyArray(value, ancestors);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (
    (prototype !== Object.prototype && prototype !== null) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return roundTrip(value);
  }
  return copyObject(value as Record<string, unknown>, ancestors);
}

function skipped(item: unknown): boolean {
  const type = typeof item;
  return item === undefined || type === 'function' || type === 'symbol';
}

function enter(value: object, ancestors: Set<object>): void {
  if (ancestors.has(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.add(value);
}

function copyArray(value: readonly unknown[], ancestors: Set<object>): unknown[] {
  enter(value, ancestors);
  const out = new Array<unknown>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    const copied = skipped(item) ? null : copy(item, ancestors);
    out[i] = copied === OMITTED ? null : copied;
  }
  ancestors.delete(value);
  return out;
}

function copyObject(value: Record<string, unknown>, ancestors: Set<object>): object {
  enter(value, ancestors);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (skipped(item)) continue;
    const copied = copy(item, ancestors);
    if (copied === OMITTED) continue;
    // JSON.parse makes `__proto__` an own property; an assignment would set the prototype.
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: copied,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = copied;
    }
  }
  ancestors.delete(value);
  return out;
}

function roundTrip(value: unknown): unknown {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? OMITTED : (JSON.parse(text) as unknown);
}
