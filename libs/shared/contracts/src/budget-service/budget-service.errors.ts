/**
 * Error codes budget-service answers with (`{ code, message, details }` over the bus). A refused
 * reservation is not an error: it is a `refused` reply. The gateway maps each code to an HTTP
 * status with an exhaustive switch; adding a code breaks that switch on purpose.
 */
export enum BudgetErrorCode {
  /** The payload broke its schema; `details.issues` lists `{ field, message }`. 400 */
  ValidationFailed = 'VALIDATION_FAILED',
  /** No budget with this id or for this scope; `details` has `budgetId` or `scope`. 404 */
  BudgetNotFound = 'BUDGET_NOT_FOUND',
  /**
   * A reservation id reused for another runner or project (the id is an idempotency key);
   * `details` has `reservationId`. 409
   */
  ReservationConflict = 'RESERVATION_CONFLICT',
  /** Anything unexpected; the message says no more than that. 500 */
  Internal = 'INTERNAL',
}
