import { type z } from 'zod';

import { BudgetException, type FieldIssue } from './budget.exception';

/** zod issues as `{ field, message }`, the field as a dotted path. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length === 0 ? '(payload)' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Parses `payload` with `schema`; throws `BudgetException(ValidationFailed)` whose details list
 * every offending field and what was expected there.
 */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  payload: unknown,
  what = 'payload',
): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw BudgetException.validationFailed(fieldIssues(result.error), what);
}
