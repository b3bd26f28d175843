import { RunnerErrorCode, RunnerException } from './runner.exception';

/** `runners.resume`: session-store knows no such session. */
export function sessionNotFound(session: string): RunnerException {
  return new RunnerException(RunnerErrorCode.SessionNotFound, `session ${session} not found`, {
    session,
  });
}

/** `runners.resume`: the session cannot be resumed now (`reason` is a sentence). */
export function sessionNotResumable(session: string, reason: string): RunnerException {
  return new RunnerException(
    RunnerErrorCode.SessionNotResumable,
    `session ${session} cannot be resumed: ${reason}`,
    { session, reason },
  );
}

/** `runners.resume`: session-store gave no usable answer. */
export function sessionStoreUnavailable(session: string, reason: string): RunnerException {
  return new RunnerException(
    RunnerErrorCode.SessionStoreUnavailable,
    `session-store unavailable: ${reason}; session ${session} was not resumed`,
    { session, reason },
  );
}
