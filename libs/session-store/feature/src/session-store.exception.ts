import { type FieldIssue, SessionStoreErrorCode } from '@stratavore/contracts';

export { SessionStoreErrorCode };

/**
 * The one exception of session-store. `code` and `details` travel over the bus unchanged
 * (`{ code, message, details }`); the gateway maps the code to an HTTP status, and so does
 * session-store's own upload endpoint ({@link httpStatusOf}).
 */
export class SessionStoreException extends Error {
  constructor(
    readonly code: SessionStoreErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'SessionStoreException';
  }

  /** The field problems of a `ValidationFailed`, else none. */
  get issues(): readonly FieldIssue[] {
    const issues = this.details?.issues;
    return Array.isArray(issues) ? (issues as FieldIssue[]) : [];
  }

  static validationFailed(issues: readonly FieldIssue[], what = 'payload'): SessionStoreException {
    const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    return new SessionStoreException(
      SessionStoreErrorCode.ValidationFailed,
      `invalid ${what}: ${summary}`,
      { issues },
    );
  }

  static sessionNotFound(sessionId: string): SessionStoreException {
    return new SessionStoreException(
      SessionStoreErrorCode.SessionNotFound,
      `session ${sessionId} not found`,
      { session: sessionId },
    );
  }

  static transcriptNotFound(sessionId: string, kindName: string): SessionStoreException {
    return new SessionStoreException(
      SessionStoreErrorCode.TranscriptNotFound,
      `session ${sessionId} has no ${kindName} transcript`,
      { session: sessionId, kind: kindName },
    );
  }
}

/** The HTTP status of each code (exhaustive: a new code does not compile until mapped). */
export function httpStatusOf(code: SessionStoreErrorCode): number {
  switch (code) {
    case SessionStoreErrorCode.ValidationFailed:
      return 400;
    case SessionStoreErrorCode.Unauthenticated:
      return 401;
    case SessionStoreErrorCode.RunnerNotInSession:
      return 403;
    case SessionStoreErrorCode.SessionNotFound:
    case SessionStoreErrorCode.TranscriptNotFound:
      return 404;
    case SessionStoreErrorCode.TranscriptTooLarge:
      return 413;
    case SessionStoreErrorCode.UnsupportedMediaType:
      return 415;
    case SessionStoreErrorCode.Internal:
      return 500;
  }
}
