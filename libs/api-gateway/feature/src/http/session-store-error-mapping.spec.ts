import { SESSION_STORE_SERVICE, SessionStoreErrorCode } from '@stratavore/contracts';
import { RemoteRequestError } from '@stratavore/messaging';

import { sessionStoreErrorStatus, toHttpError } from './http-error-mapping';

function remote(code: string, message: string, details?: unknown) {
  return new RemoteRequestError(SESSION_STORE_SERVICE, 'sessions.get', { code, message, details });
}

describe("HTTP mapping of session-store's errors", () => {
  it('maps every session-store code; upload-only codes are an upstream failure', () => {
    const expected: Record<SessionStoreErrorCode, number> = {
      [SessionStoreErrorCode.ValidationFailed]: 400,
      [SessionStoreErrorCode.SessionNotFound]: 404,
      [SessionStoreErrorCode.TranscriptNotFound]: 404,
      [SessionStoreErrorCode.Unauthenticated]: 502,
      [SessionStoreErrorCode.RunnerNotInSession]: 502,
      [SessionStoreErrorCode.TranscriptTooLarge]: 502,
      [SessionStoreErrorCode.UnsupportedMediaType]: 502,
      [SessionStoreErrorCode.Internal]: 502,
    };
    for (const code of Object.values(SessionStoreErrorCode)) {
      expect([code, sessionStoreErrorStatus(code)]).toEqual([code, expected[code]]);
    }
  });

  it("keeps session-store's message and field errors, and hides internals", () => {
    expect(
      toHttpError(
        remote('VALIDATION_FAILED', 'invalid payload: limit: too big', {
          issues: [{ field: 'limit', message: 'too big' }],
        }),
      ),
    ).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'invalid payload: limit: too big',
      errors: [{ field: 'limit', message: 'too big' }],
    });
    expect(toHttpError(remote('SESSION_NOT_FOUND', 'session s not found'))).toMatchObject({
      status: 404,
      message: 'session s not found',
    });
    expect(toHttpError(remote('INTERNAL', 'stack trace here'))).toEqual({
      status: 502,
      code: 'UPSTREAM_ERROR',
      message: 'session-store failed to handle the request',
    });
    expect(toHttpError(remote('NEW_CODE', 'x'))).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
    });
  });
});
