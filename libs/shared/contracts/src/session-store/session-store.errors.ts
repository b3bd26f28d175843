/**
 * Error codes session-store answers with: over the bus (`{ code, message, details }`) for the
 * gateway's requests, and in the body of its own HTTP answers to transcript uploads. The gateway
 * maps each one to an HTTP status with an exhaustive switch; adding a code breaks that switch on
 * purpose.
 */
export enum SessionStoreErrorCode {
  /** The payload, query or path broke its schema; `details.issues` lists `{ field, message }`. 400 */
  ValidationFailed = 'VALIDATION_FAILED',
  /** No session with this id; `details.session`. 404 */
  SessionNotFound = 'SESSION_NOT_FOUND',
  /** The session has no transcript of this kind (yet); `details` has `session`, `kind`, `agentId`. 404 */
  TranscriptNotFound = 'TRANSCRIPT_NOT_FOUND',
  /** Upload: no bearer token, or one that belongs to no runner session-store knows. 401 */
  Unauthenticated = 'UNAUTHENTICATED',
  /** Upload: the token is a runner's that has no part in this session, or ended too long ago. 403 */
  RunnerNotInSession = 'RUNNER_NOT_IN_SESSION',
  /** Upload: the body is larger than the configured limit; `details.maxBytes`. 413 */
  TranscriptTooLarge = 'TRANSCRIPT_TOO_LARGE',
  /** Upload: the body is not sent as `application/x-ndjson` (or another accepted type). 415 */
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  /** Anything unexpected; the message says no more than that. 500 */
  Internal = 'INTERNAL',
}
