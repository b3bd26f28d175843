import {
  type BudgetShortfall,
  createProjectRequestSchema,
  launchRunnerRequestSchema,
  updateProjectRequestSchema,
} from '@stratavore/contracts';

import {
  budgetExceeded,
  budgetUnavailable,
  launchEstimate,
  withMaxBudgetUsd,
} from './launch-budget';
import { RunnerErrorCode, type RunnerException } from './runner.exception';
import { parsePayload } from './validation';

function issues(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return (error as RunnerException).details?.issues;
  }
  throw new Error('expected a refusal');
}

const project = { id: '22222222-2222-4222-8222-222222222222', name: 'api' };

const shortfall: BudgetShortfall = {
  budgetId: '33333333-3333-4333-8333-333333333333',
  scope: { kind: 'project', projectId: project.id },
  enforcement: 'hard',
  period: 'daily',
  dimension: 'tokens',
  limit: 1_000_000,
  carryOver: 0,
  used: 990_000,
  reserved: 8_000,
  left: 2_000,
  requested: 50_000,
  periodEnd: '2026-03-02T00:00:00.000Z',
  message: 'budget of project api (daily, tokens) is exhausted',
};

describe('launch estimates', () => {
  it('validates estimates at the edge, naming the field', () => {
    expect(
      issues(() =>
        parsePayload(launchRunnerRequestSchema, {
          project: 'api',
          estimateTokens: 1.5,
          estimateUsd: -1,
        }),
      ),
    ).toEqual([
      { field: 'estimateTokens', message: 'expected a whole number of tokens (0 or more)' },
      { field: 'estimateUsd', message: 'expected an amount in USD (0 or more)' },
    ]);
    expect(
      issues(() =>
        parsePayload(launchRunnerRequestSchema, { project: 'api', estimateTokens: null }),
      ),
    ).toEqual([{ field: 'estimateTokens', message: expect.any(String) as string }]);
    expect(
      parsePayload(createProjectRequestSchema, { name: 'api', path: '/a', estimateTokens: 5000 }),
    ).toMatchObject({ estimateTokens: 5000 });
    expect(parsePayload(updateProjectRequestSchema, { project: 'api', estimateUsd: null })).toEqual(
      { project: 'api', estimateUsd: null },
    );
  });

  it('takes the launch override per dimension, else the project default, else 0', () => {
    const defaults = { estimateTokens: 40_000, estimateUsd: null };
    expect(launchEstimate({}, defaults)).toEqual({ tokens: 40_000, usd: 0 });
    expect(launchEstimate({ estimateUsd: 2.5 }, defaults)).toEqual({ tokens: 40_000, usd: 2.5 });
    expect(launchEstimate({ estimateTokens: 0 }, defaults)).toEqual({ tokens: 0, usd: 0 });
    expect(launchEstimate({}, { estimateTokens: null, estimateUsd: null })).toEqual({
      tokens: 0,
      usd: 0,
    });
  });

  it("falls back to the service's default for what neither the launch nor the project sets", () => {
    const service = { tokens: 20_000, usd: 1.5 };
    const none = { estimateTokens: null, estimateUsd: null };
    expect(launchEstimate({}, none, service)).toEqual({ tokens: 20_000, usd: 1.5 });
    expect(launchEstimate({}, { estimateTokens: 40_000, estimateUsd: null }, service)).toEqual({
      tokens: 40_000,
      usd: 1.5,
    });
    expect(launchEstimate({ estimateUsd: 0 }, none, service)).toEqual({ tokens: 20_000, usd: 0 });
  });
});

describe('budget refusals', () => {
  it("carries budget-service's message verbatim and the structured refusal in details", () => {
    const message =
      'budget of project api (daily, tokens) is exhausted: limit 1000000, used 990000, reserved 8000, left 2000, requested 50000; the period ends at 2026-03-02T00:00:00.000Z';
    const error = budgetExceeded(
      project,
      { tokens: 50_000, usd: 0 },
      { reservationId: '44444444-4444-4444-8444-444444444444', message, refusals: [shortfall] },
    );
    expect(error.code).toBe(RunnerErrorCode.BudgetExceeded);
    expect(error.message).toBe(message);
    expect(error.details).toEqual({
      project: 'api',
      projectId: project.id,
      reservationId: '44444444-4444-4444-8444-444444444444',
      estimate: { tokens: 50_000, usd: 0 },
      refusals: [shortfall],
    });
  });

  it('says budget-service is unavailable and that nothing was started', () => {
    const error = budgetUnavailable(project, 'no responder for budget-service');
    expect(error.code).toBe(RunnerErrorCode.BudgetUnavailable);
    expect(error.message).toBe(
      'budget-service unavailable: no responder for budget-service; the launch in project api was not started, since budgets are enforced (BUDGETS=enforce)',
    );
  });
});

describe('--max-budget-usd for headless Claude runners', () => {
  it('appends what is left of the USD budget, in at most six decimals', () => {
    expect(withMaxBudgetUsd(['claude', '--verbose'], 'headless', 12.5)).toEqual([
      'claude',
      '--verbose',
      '--max-budget-usd',
      '12.5',
    ]);
    expect(withMaxBudgetUsd(['/usr/local/bin/claude'], 'headless', 0.1234567)).toEqual([
      '/usr/local/bin/claude',
      '--max-budget-usd',
      '0.123456',
    ]);
    expect(withMaxBudgetUsd(['npx', '@anthropic-ai/claude-code', '-p'], 'headless', 1)).toEqual([
      'npx',
      '@anthropic-ai/claude-code',
      '-p',
      '--max-budget-usd',
      '1',
    ]);
  });

  it('leaves other commands, interactive runners, unlimited USD and explicit caps alone', () => {
    expect(withMaxBudgetUsd(['bash', '-c', 'make'], 'headless', 3)).toEqual(['bash', '-c', 'make']);
    expect(withMaxBudgetUsd(['claude'], 'interactive', 3)).toEqual(['claude']);
    expect(withMaxBudgetUsd(['claude'], 'headless', null)).toEqual(['claude']);
    expect(withMaxBudgetUsd(['claude', '--max-budget-usd', '1'], 'headless', 3)).toEqual([
      'claude',
      '--max-budget-usd',
      '1',
    ]);
    expect(withMaxBudgetUsd(['claude', '--max-budget-usd=1'], 'headless', 3)).toEqual([
      'claude',
      '--max-budget-usd=1',
    ]);
  });
});
