import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';

/** A JSON body as an object to merge path parameters into; anything else is a 400. */
export function bodyObject(body: unknown, { optional = false } = {}): Record<string, unknown> {
  if ((body === undefined || body === null) && optional) return {};
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return body as Record<string, unknown>;
  }
  throw new GatewayException(
    GatewayErrorCode.ValidationFailed,
    'invalid request: (body): expected a JSON object',
    [{ field: '(body)', message: 'expected a JSON object' }],
  );
}

/** `true` / `false` from a query string; anything else is passed on for the schema to refuse. */
export function queryBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** A query parameter given once (`?a=1`); repeated ones (`?a=1&a=2`) are joined with commas. */
export function queryString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join(',');
  return undefined;
}

/** `?limit=20` as a number when it looks like one. */
export function queryNumber(value: unknown): unknown {
  const text = queryString(value);
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}
