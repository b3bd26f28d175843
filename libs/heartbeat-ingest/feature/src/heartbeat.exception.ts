/** Why heartbeat-ingest refused a heartbeat; the controller maps each code to an HTTP status. */
export enum HeartbeatErrorCode {
  /** The body broke its schema; `errors` lists `{ field, message }`. 400 */
  ValidationFailed = 'VALIDATION_FAILED',
  /** No bearer token, or one that belongs to no runner we serve. 401 */
  Unauthenticated = 'UNAUTHENTICATED',
  /** The token is valid, but for another runner than the one named in the body. 403 */
  TokenOfAnotherRunner = 'TOKEN_OF_ANOTHER_RUNNER',
  /** The runner has ended (completed, failed or stopped): the agent should stop. 409 */
  RunnerEnded = 'RUNNER_ENDED',
}

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The one typed error of heartbeat-ingest. */
export class HeartbeatException extends Error {
  constructor(
    readonly code: HeartbeatErrorCode,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
    this.name = 'HeartbeatException';
  }
}

/** The HTTP status of each code (exhaustive: a new code does not compile until mapped). */
export function httpStatusOf(code: HeartbeatErrorCode): number {
  switch (code) {
    case HeartbeatErrorCode.ValidationFailed:
      return 400;
    case HeartbeatErrorCode.Unauthenticated:
      return 401;
    case HeartbeatErrorCode.TokenOfAnotherRunner:
      return 403;
    case HeartbeatErrorCode.RunnerEnded:
      return 409;
  }
}
