/** One invalid field named by a `400` answer. */
export interface ApiFieldError {
  readonly field: string;
  readonly message: string;
}

/**
 * The server answered, and not with success: `status` is the HTTP status, `code` the error code
 * from the body (or `HTTP_<status>` when the body has none), `fieldErrors` the `errors` of a
 * validation failure. A `2xx` whose body does not match the expected schema is reported as an
 * `ApiError` too, with code `INVALID_RESPONSE`.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: readonly ApiFieldError[] = [],
    /** The server's `requestId`, to quote when reporting a problem. */
    readonly requestId?: string,
    /** Structured detail of some refusals (`BUDGET_EXCEEDED`: the budgets that refused). */
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Worth sending again later: the server is overloaded, restarting or timed out. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** Why no answer came back. */
export type NetworkFailure = 'unreachable' | 'timeout';

/** The request got no HTTP answer: connection refused or reset, DNS failure, or a timeout. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  readonly retryable = true;

  constructor(
    readonly failure: NetworkFailure,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(
      failure === 'timeout'
        ? `No answer from ${url} before the timeout`
        : `Could not reach ${url}${describeCause(options?.cause)}`,
      options,
    );
  }
}

function describeCause(cause: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (test runners), failing instanceof.
  if (!isObject(cause)) return '';
  // fetch wraps the socket error: `TypeError: fetch failed` with `cause: { code: 'ECONNREFUSED' }`.
  const inner = cause.cause;
  if (isObject(inner) && typeof inner.code === 'string') return `: ${inner.code}`;
  return typeof cause.message === 'string' ? `: ${cause.message}` : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}
