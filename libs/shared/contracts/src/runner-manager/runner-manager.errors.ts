/**
 * Error codes runner-manager answers with (`{ code, message, details }` over the bus). The
 * gateway maps each one to an HTTP status with an exhaustive switch; adding a code breaks that
 * switch on purpose.
 */
export enum RunnerErrorCode {
  /** The payload broke its schema; `details.issues` lists `{ field, message }`. 400 */
  ValidationFailed = 'VALIDATION_FAILED',
  /** 404 */
  ProjectNotFound = 'PROJECT_NOT_FOUND',
  /** Another non-archived project has this name. 409 */
  ProjectNameTaken = 'PROJECT_NAME_TAKEN',
  /** The project is archived: no launches, no updates. 409 */
  ProjectArchived = 'PROJECT_ARCHIVED',
  /** Archiving refused while runners are active; `details.holders` names them. 409 */
  ProjectHasActiveRunners = 'PROJECT_HAS_ACTIVE_RUNNERS',
  /** 404 */
  RunnerNotFound = 'RUNNER_NOT_FOUND',
  /** The runner is completed, failed or stopped. 409 */
  RunnerAlreadyEnded = 'RUNNER_ALREADY_ENDED',
  /** The project is full; `details` has `maxRunners` and `holders`. 429 */
  QuotaExceeded = 'QUOTA_EXCEEDED',
  /** The state machine refuses the move; `details` has `from` and `to`. 409 */
  IllegalTransition = 'ILLEGAL_TRANSITION',
  /** 404 */
  QueuedLaunchNotFound = 'QUEUED_LAUNCH_NOT_FOUND',
  /** Anything unexpected; the message says no more than that. 500 */
  Internal = 'INTERNAL',
}

/** One field problem of a `ValidationFailed` error. */
export interface FieldIssue {
  /** Dotted path of the field (`env.2.name`), `(payload)` for the payload itself. */
  readonly field: string;
  /** What was expected there. */
  readonly message: string;
}
