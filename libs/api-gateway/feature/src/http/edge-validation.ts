import { type z } from 'zod';

import { type FieldError, GatewayErrorCode, GatewayException } from './gateway.exception';

/** zod issues as `{ field, message }`; the field is the dotted path, `(body)` for the whole. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], root = '(body)'): FieldError[] {
  return issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : root,
    message: issue.message,
  }));
}

/** Parses `input` at the HTTP edge; a failure is a 400 naming every field. */
export function parseAtEdge<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what = 'request',
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error.issues);
  throw new GatewayException(
    GatewayErrorCode.ValidationFailed,
    `invalid ${what}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    errors,
  );
}
