import { BudgetErrorCode, type BudgetScope, type FieldIssue } from '@stratavore/contracts';

export { BudgetErrorCode, type FieldIssue };

/**
 * The one exception of budget-service. `code` and `details` travel over the bus unchanged
 * (`{ code, message, details }`); the gateway maps the code to an HTTP status.
 */
export class BudgetException extends Error {
  constructor(
    readonly code: BudgetErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'BudgetException';
  }

  static validationFailed(issues: readonly FieldIssue[], what = 'payload'): BudgetException {
    const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    return new BudgetException(BudgetErrorCode.ValidationFailed, `invalid ${what}: ${summary}`, {
      issues,
    });
  }

  static budgetNotFound(ref: { budgetId?: string; scope?: BudgetScope }): BudgetException {
    const what =
      ref.budgetId !== undefined
        ? `budget ${ref.budgetId}`
        : ref.scope?.kind === 'project'
          ? `budget for project ${ref.scope.projectId}`
          : 'global budget';
    return new BudgetException(BudgetErrorCode.BudgetNotFound, `${what} not found`, { ...ref });
  }

  static reservationConflict(reservationId: string): BudgetException {
    return new BudgetException(
      BudgetErrorCode.ReservationConflict,
      `reservation ${reservationId} was made for another runner or project; use a new id per launch`,
      { reservationId },
    );
  }
}
