import { type z } from 'zod';

import { replyJsonSchema } from './reply-schema';

/** The first place where a value does not have the schema's shape, or `null`. */
export type ShapeCheck = (value: unknown) => string | null;

type JsonSchema = Readonly<Record<string, unknown>>;
type NodeCheck = (value: unknown, path: string) => string | null;

const TYPE_CHECKS: Readonly<Record<string, (value: unknown) => boolean>> = {
  string: (value) => typeof value === 'string',
  number: (value) => typeof value === 'number' && Number.isFinite(value),
  integer: (value) => Number.isInteger(value),
  boolean: (value) => typeof value === 'boolean',
  object: (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  array: (value) => Array.isArray(value),
  null: (value) => value === null,
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function compileNode(schema: JsonSchema): NodeCheck {
  const checks: NodeCheck[] = [];
  const { type, nullable, properties, required, items, anyOf, oneOf, allOf } = schema;
  if (type !== undefined) {
    if (typeof type !== 'string' || !(type in TYPE_CHECKS)) {
      throw new Error(`reply shape: unsupported type ${JSON.stringify(type)}`);
    }
    const isType = TYPE_CHECKS[type]!;
    checks.push((value, path) =>
      isType(value) ? null : `${path}: expected ${type}, got ${describe(value)}`,
    );
  }
  if (schema.enum !== undefined || schema.const !== undefined) {
    const allowed = new Set(
      Array.isArray(schema.enum) ? (schema.enum as unknown[]) : [schema.const],
    );
    checks.push((value, path) =>
      allowed.has(value) ? null : `${path}: unexpected value ${JSON.stringify(value)}`,
    );
  }
  if (properties !== undefined) {
    const mandatory = new Set(Array.isArray(required) ? (required as string[]) : []);
    const fields = Object.entries(properties as Record<string, JsonSchema>).map(([name, node]) => ({
      name,
      check: compileNode(node),
      mandatory: mandatory.has(name),
    }));
    checks.push((value, path) => {
      if (!TYPE_CHECKS.object!(value)) return `${path}: expected object, got ${describe(value)}`;
      const record = value as Record<string, unknown>;
      for (const field of fields) {
        const fieldValue = record[field.name];
        if (fieldValue === undefined) {
          if (field.mandatory) return `${path}.${field.name}: required`;
          continue;
        }
        const problem = field.check(fieldValue, `${path}.${field.name}`);
        if (problem !== null) return problem;
      }
      return null;
    });
  }
  if (items !== undefined) {
    const item = compileNode(items as JsonSchema);
    checks.push((value, path) => {
      if (!Array.isArray(value)) return `${path}: expected array, got ${describe(value)}`;
      const list = value as readonly unknown[];
      for (let i = 0; i < list.length; i++) {
        const problem = item(list[i], `${path}[${i}]`);
        if (problem !== null) return problem;
      }
      return null;
    });
  }
  const alternatives = (anyOf ?? oneOf) as readonly JsonSchema[] | undefined;
  if (alternatives !== undefined) {
    const branches = alternatives.map(compileNode);
    checks.push((value, path) =>
      branches.some((branch) => branch(value, path) === null)
        ? null
        : `${path}: matches none of ${branches.length} alternatives`,
    );
  }
  if (allOf !== undefined) {
    const parts = (allOf as readonly JsonSchema[]).map(compileNode);
    checks.push((value, path) => {
      for (const part of parts) {
        const problem = part(value, path);
        if (problem !== null) return problem;
      }
      return null;
    });
  }
  return (value, path) => {
    if (value === null && nullable === true) return null;
    for (const check of checks) {
      const problem = check(value, path);
      if (problem !== null) return problem;
    }
    return null;
  };
}

/**
 * A check of a reply's shape against its contract, compiled once from the same JSON schema the
 * route's serializer writes with ({@link replyJsonSchema}): types, required properties,
 * nullability, enums and constants. It does not check string formats (uuid, date-time) or
 * number ranges, nor strip properties the contract does not name (the serializer leaves them
 * out). For the largest frequent replies, built by a service from typed rows, where a full zod
 * parse was a large part of the gateway's work (docs/benchmarks.md, "api-read"): it still keeps
 * out a reply the serializer could not write faithfully.
 */
export function compileShapeCheck(schema: z.ZodType): ShapeCheck {
  const check = compileNode(replyJsonSchema(schema));
  return (value) => check(value, '$');
}
