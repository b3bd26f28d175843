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
  /**
   * The runner's log is where this runner-manager cannot read it (the runner ran on another
   * host); `details` has `runner` and `host`. 404
   */
  RunnerLogUnavailable = 'RUNNER_LOG_UNAVAILABLE',
  /**
   * A hard budget covering the project cannot take the launch's estimate: the message is
   * budget-service's own (budget, limit, used, reserved, left, period end); `details` has
   * `project`, `projectId`, `estimate` and `refusals` (budget-service's `BudgetShortfall`s). 402
   */
  BudgetExceeded = 'BUDGET_EXCEEDED',
  /**
   * Budgets are enforced (`BUDGETS=enforce`) and budget-service did not answer the reservation,
   * so the launch was not started unchecked; `details` has `project` and `reason`. 503
   */
  BudgetUnavailable = 'BUDGET_UNAVAILABLE',
  /** `runners.resume`: session-store knows no session with this id; `details.session`. 404 */
  SessionNotFound = 'SESSION_NOT_FOUND',
  /**
   * `runners.resume`: the session cannot be resumed now: a runner is still working in it, or
   * its project no longer runs Claude Code; `details` has `session` and `reason`. 409
   */
  SessionNotResumable = 'SESSION_NOT_RESUMABLE',
  /** `runners.resume`: session-store did not answer; `details` has `session` and `reason`. 503 */
  SessionStoreUnavailable = 'SESSION_STORE_UNAVAILABLE',
  /**
   * The runner has no git worktree, or it was removed (`details` has `runner`, and `removedAt`
   * once removed). 404
   */
  WorktreeNotFound = 'WORKTREE_NOT_FOUND',
  /** A runner still works in the worktree; `details` has `runner` and `holders`. 409 */
  WorktreeInUse = 'WORKTREE_IN_USE',
  /**
   * Removing the worktree would lose work: uncommitted changes, or commits on its branch that
   * the project's HEAD does not have (`details`: `runner`, `branch`, `changes`, `unmerged`);
   * `force` removes it anyway. 409
   */
  WorktreeHasChanges = 'WORKTREE_HAS_CHANGES',
  /**
   * The worktree is where this runner-manager cannot act on it (another host, a launcher
   * without worktrees), or git failed on it; `details` has `runner` and `reason`. 409
   */
  WorktreeUnavailable = 'WORKTREE_UNAVAILABLE',
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
