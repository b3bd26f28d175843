export enum EmbeddedPostgresErrorCode {
  UnsupportedPlatform = 'unsupported_platform',
  ServiceUserUnavailable = 'service_user_unavailable',
  InitdbFailed = 'initdb_failed',
  StartFailed = 'start_failed',
  StartTimeout = 'start_timeout',
  InvalidName = 'invalid_name',
}

/** The one exception of this library; `code` says what went wrong. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';

  constructor(
    readonly code: EmbeddedPostgresErrorCode,
    message: string,
  ) {
    super(message);
  }
}
