import { RouteSchema } from '@nestjs/platform-fastify';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * What a serializer needs of a schema: its shape. Validation keywords (`pattern`, `minimum`,
 * `format`, ...) are dropped: the serializer writes, it does not validate, and Fastify checks
 * the schema as draft 7, which some OpenAPI 3.0 keywords are not (`exclusiveMinimum: true`).
 */
const SHAPE_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'items',
  'nullable',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  // Kept so that the branches of a union (`anyOf` / `oneOf`) stay told apart.
  'enum',
  'const',
]);

function shapeOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shapeOf);
  if (typeof node !== 'object' || node === null) return node;
  const shape: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (!SHAPE_KEYWORDS.has(key)) continue;
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      shape[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([name, schema]) => [name, shapeOf(schema)]),
      );
    } else {
      shape[key] = key === 'required' ? value : shapeOf(value);
    }
  }
  return shape;
}

/** The JSON schema of a contract's reply, as Fastify's serializer (fast-json-stringify) reads it. */
export function replyJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'output',
    // `nullable: true` rather than `anyOf [..., null]`: the serializer writes it without trying
    // each alternative.
    target: 'openapi-3.0',
    unrepresentable: 'any',
  });
  return shapeOf(json) as JsonSchema;
}

/**
 * Serializes a route's `status` reply with fast-json-stringify from the contract's schema
 * instead of `JSON.stringify`: the list of runners is the API's largest frequent answer. The
 * schema is the contract's, so the body is the same (properties the contract does not name are
 * left out, as the reply validation already leaves them out). Request validation stays with the
 * controllers (zod, field-level 400s).
 */
export const SerializeReply = (schema: z.ZodType, status = 200) =>
  RouteSchema({ response: { [status]: replyJsonSchema(schema) } });
