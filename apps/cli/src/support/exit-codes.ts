import { type ApiError, NetworkError } from '@stratavore/api-client';

/** The CLI's exit codes; scripts rely on them. */
export const ExitCode = {
  Ok: 0,
  ApiError: 1,
  Usage: 2,
  NotFound: 3,
  Refused: 4,
  /** A budget refused the launch (HTTP 402 `BUDGET_EXCEEDED`); raise the budget or wait. */
  BudgetExceeded: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Exit code for an error thrown by the API client. */
export function exitCodeFor(error: ApiError | NetworkError): ExitCode {
  if (error instanceof NetworkError) return ExitCode.ApiError;
  if (error.code === 'BUDGET_EXCEEDED' || error.status === 402) return ExitCode.BudgetExceeded;
  if (error.status === 404) return ExitCode.NotFound;
  if (error.status === 409 || error.status === 429) return ExitCode.Refused;
  // The server refused what the user typed: a usage error, with the fields named.
  if (error.status === 400) return ExitCode.Usage;
  return ExitCode.ApiError;
}

/** A message for people: the server's message, its field errors and its request id. */
export function describeApiError(error: ApiError | NetworkError): string {
  if (error instanceof NetworkError) return error.message;
  const lines = [error.message];
  for (const field of error.fieldErrors) lines.push(`  ${field.field}: ${field.message}`);
  if (error.status === 401) lines.push('Check the API key: stratavore login --api-key KEY');
  if (error.requestId) lines.push(`(request ${error.requestId})`);
  return lines.join('\n');
}
