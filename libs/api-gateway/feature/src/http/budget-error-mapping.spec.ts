import { BUDGET_SERVICE, BudgetErrorCode, RunnerErrorCode } from '@stratavore/contracts';
import { RemoteRequestError } from '@stratavore/messaging';

import { budgetErrorStatus, toHttpError } from './http-error-mapping';

describe('HTTP error mapping of budgets', () => {
  it('maps every budget-service code to an HTTP status, never a 500', () => {
    const expected: Record<BudgetErrorCode, number> = {
      [BudgetErrorCode.ValidationFailed]: 400,
      [BudgetErrorCode.BudgetNotFound]: 404,
      [BudgetErrorCode.ReservationConflict]: 409,
      [BudgetErrorCode.Internal]: 502,
    };
    for (const code of Object.values(BudgetErrorCode)) {
      expect([code, budgetErrorStatus(code)]).toEqual([code, expected[code]]);
    }
  });

  it("reads budget-service's codes as its own, with field errors and without internals", () => {
    const budget = (code: string, message: string, details?: unknown) =>
      new RemoteRequestError(BUDGET_SERVICE, 'budgets.set', { code, message, details });
    expect(
      toHttpError(
        budget('VALIDATION_FAILED', 'invalid payload: limitTokens: expected more than 0 tokens', {
          issues: [{ field: 'limitTokens', message: 'expected more than 0 tokens' }],
        }),
      ),
    ).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'invalid payload: limitTokens: expected more than 0 tokens',
      errors: [{ field: 'limitTokens', message: 'expected more than 0 tokens' }],
    });
    expect(toHttpError(budget('BUDGET_NOT_FOUND', 'no budget for the global scope'))).toEqual({
      status: 404,
      code: 'BUDGET_NOT_FOUND',
      message: 'no budget for the global scope',
    });
    expect(toHttpError(budget('INTERNAL', 'relation "budget.x" does not exist'))).toEqual({
      status: 502,
      code: 'INTERNAL',
      message: 'budget-service failed to handle the request',
    });
    expect(toHttpError(budget('QUOTA_EXCEEDED', 'not a budget code'))).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
    });
  });

  it("answers a launch refused by a budget with 402, budget-service's message and the refusal", () => {
    const message =
      'budget of project api (daily, tokens) is exhausted: limit 1000, used 990, reserved 0, left 10, requested 50; the period ends at 2026-03-02T00:00:00.000Z';
    const details = { project: 'api', refusals: [{ left: 10 }] };
    expect(
      toHttpError(
        new RemoteRequestError('runner-manager', 'runners.launch', {
          code: RunnerErrorCode.BudgetExceeded,
          message,
          details,
        }),
      ),
    ).toEqual({ status: 402, code: 'BUDGET_EXCEEDED', message, details });
    expect(
      toHttpError(
        new RemoteRequestError('runner-manager', 'runners.launch', {
          code: RunnerErrorCode.BudgetUnavailable,
          message: 'budget-service unavailable: no responder',
          details: { project: 'api', reason: 'no responder' },
        }),
      ),
    ).toEqual({
      status: 503,
      code: 'BUDGET_UNAVAILABLE',
      message: 'budget-service unavailable: no responder',
    });
  });
});
