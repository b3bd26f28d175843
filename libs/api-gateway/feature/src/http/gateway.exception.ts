/** Errors the gateway raises itself; remote errors keep their own module's code. */
export enum GatewayErrorCode {
  /** Body, query or path parameter broke its schema; `errors` lists the fields. */
  ValidationFailed = 'VALIDATION_FAILED',
  /** No `Authorization: Bearer <key>`, an unknown key, or a revoked key. */
  Unauthenticated = 'UNAUTHENTICATED',
  /** The key's scope does not allow the request. */
  Forbidden = 'FORBIDDEN',
  /** No such route. */
  RouteNotFound = 'ROUTE_NOT_FOUND',
  /** No API key with this id. */
  ApiKeyNotFound = 'API_KEY_NOT_FOUND',
  /** Too many requests for this key; see `Retry-After`. */
  RateLimited = 'RATE_LIMITED',
  /** The request is malformed in a way no schema reports (bad JSON, unsupported media type). */
  BadRequest = 'BAD_REQUEST',
  /** A service answered with an error code the gateway does not know, or a malformed reply. */
  UpstreamError = 'UPSTREAM_ERROR',
  /** No service is there to answer (no responder, broker disconnected). */
  UpstreamUnavailable = 'UPSTREAM_UNAVAILABLE',
  /** The service did not answer in time. */
  UpstreamTimeout = 'UPSTREAM_TIMEOUT',
  /** A bug in the gateway; the message says no more than that. */
  Internal = 'INTERNAL',
}

/** One field problem, as returned in `errors`. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The one typed exception of the gateway. */
export class GatewayException extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly errors?: readonly FieldError[],
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayException';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}
