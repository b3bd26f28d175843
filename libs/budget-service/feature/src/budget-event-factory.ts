import {
  type Budget,
  type BudgetFigures,
  type BudgetPeriodState,
  describeScope,
  exceededDimensions,
  formatTokens,
  formatUsd,
  microsToUsd,
} from '@stratavore/budget-service-domain';
import {
  type budgetExceededV2,
  type budgetOverrunV1,
  type budgetRefusedV1,
  type BudgetShortfall,
  type budgetWarningV2,
  buildEnvelope,
  type EventEnvelope,
  type ReserveBudgetRequest,
} from '@stratavore/contracts';
import { type Clock, type IdGenerator } from '@stratavore/core';
import { type z } from 'zod';

import { BUDGET_SERVICE_NAME, type RequestContext } from './budget-service.deps';

type WarningData = z.input<(typeof budgetWarningV2)['data']>;
type ExceededData = z.input<(typeof budgetExceededV2)['data']>;
type OverrunData = z.input<(typeof budgetOverrunV1)['data']>;
type RefusedData = z.input<(typeof budgetRefusedV1)['data']>;

/** The runner whose usage overran a budget. */
export interface OverrunningRunner {
  readonly runnerId: string;
  readonly projectId: string;
}

/**
 * Builds the signed `budget.warning` / `budget.exceeded` (v2) and `budget.overrun` (v1)
 * envelopes of one budget.
 */
export class BudgetEventFactory {
  constructor(private readonly deps: { clock: Clock; ids: IdGenerator; signingKey: string }) {}

  warning(
    budget: Budget,
    period: BudgetPeriodState,
    figures: BudgetFigures,
    threshold: number,
    ctx: RequestContext,
  ): EventEnvelope {
    const state = budgetState(budget, period, figures);
    const percent = Math.round(threshold * 100);
    const data: WarningData = {
      ...state,
      threshold,
      message:
        `${capitalise(describeScope(budget.scope))} (${budget.period}) reached ${percent} % of ` +
        `its limit: ${usedOfLimit(figures)}; ${periodEnd(period)}`,
    };
    return this.build('budget.warning', 2, budget.id, data, ctx);
  }

  exceeded(
    budget: Budget,
    period: BudgetPeriodState,
    figures: BudgetFigures,
    ctx: RequestContext,
  ): EventEnvelope {
    const state = budgetState(budget, period, figures);
    const consequence =
      budget.enforcement === 'hard'
        ? 'its runners are stopped and launches refused until the period ends or the limit is raised'
        : 'soft enforcement: nothing is stopped';
    const data: ExceededData = {
      ...state,
      exceededOn: exceededDimensions(figures.used, figures.effective),
      message:
        `${capitalise(describeScope(budget.scope))} (${budget.period}) is exceeded: ` +
        `${usedOfLimit(figures)}; ${consequence}; ${periodEnd(period)}`,
    };
    return this.build('budget.exceeded', 2, budget.id, data, ctx);
  }

  /**
   * `budget.overrun` of a hard budget for one runner, with the event id already recorded with
   * its overrun row. Subject: the runner.
   */
  overrun(
    budget: Budget,
    period: BudgetPeriodState,
    figures: BudgetFigures,
    runner: OverrunningRunner,
    eventId: string,
    ctx: RequestContext,
  ): EventEnvelope {
    const data: OverrunData = {
      ...budgetState(budget, period, figures),
      enforcement: 'hard',
      runnerId: runner.runnerId,
      runnerProjectId: runner.projectId,
      exceededOn: exceededDimensions(figures.used, figures.effective),
      message:
        `${capitalise(describeScope(budget.scope))} (${budget.period}) is exceeded: ` +
        `${usedOfLimit(figures)}; runner ${runner.runnerId} spent after the limit was reached ` +
        `and is stopped; ${periodEnd(period)}`,
    };
    return buildEnvelope(
      {
        type: 'budget.overrun',
        version: 1,
        source: BUDGET_SERVICE_NAME,
        subject: runner.runnerId,
        correlationId: ctx.correlationId,
        data,
      },
      { clock: this.deps.clock, ids: { uuid: () => eventId }, signingKey: this.deps.signingKey },
    );
  }

  /** `budget.refused` of one reservation request. Subject: the project. */
  refused(
    request: ReserveBudgetRequest,
    refusals: readonly BudgetShortfall[],
    message: string,
    ctx: RequestContext,
  ): EventEnvelope {
    const data: RefusedData = {
      reservationId: request.reservationId,
      runnerId: request.runnerId,
      projectId: request.projectId,
      ...(request.projectName === undefined ? {} : { projectName: request.projectName }),
      estimateTokens: request.estimate.tokens,
      estimateUsd: request.estimate.usd,
      refusals: [...refusals],
      message,
    };
    return this.build('budget.refused', 1, request.projectId, data, ctx);
  }

  private build(
    type: 'budget.warning' | 'budget.exceeded' | 'budget.refused',
    version: 1 | 2,
    subject: string,
    data: WarningData | ExceededData | RefusedData,
    ctx: RequestContext,
  ): EventEnvelope {
    return buildEnvelope(
      {
        type,
        version,
        source: BUDGET_SERVICE_NAME,
        subject,
        correlationId: ctx.correlationId,
        data,
      },
      { clock: this.deps.clock, ids: this.deps.ids, signingKey: this.deps.signingKey },
    );
  }
}

function budgetState(budget: Budget, period: BudgetPeriodState, figures: BudgetFigures) {
  return {
    budgetId: budget.id,
    scope: budget.scope,
    ...(budget.scope.kind === 'project' ? { projectId: budget.scope.projectId } : {}),
    period: budget.period,
    periodStart: period.start.toISOString(),
    periodEnd: period.end?.toISOString() ?? null,
    enforcement: budget.enforcement,
    limitTokens: figures.effective.tokens,
    limitUsd:
      figures.effective.usdMicros === null ? null : microsToUsd(figures.effective.usdMicros),
    usedTokens: figures.used.tokens,
    usedUsd: microsToUsd(figures.used.usdMicros),
    reservedTokens: figures.reserved.tokens,
    reservedUsd: microsToUsd(figures.reserved.usdMicros),
    ratio: figures.ratio,
  };
}

function usedOfLimit(figures: BudgetFigures): string {
  const parts: string[] = [];
  if (figures.effective.tokens !== null) {
    parts.push(
      `used ${formatTokens(figures.used.tokens)} of ${formatTokens(figures.effective.tokens)}`,
    );
  }
  if (figures.effective.usdMicros !== null) {
    parts.push(
      `used ${formatUsd(figures.used.usdMicros)} of ${formatUsd(figures.effective.usdMicros)}`,
    );
  }
  return parts.join(', ');
}

function periodEnd(period: BudgetPeriodState): string {
  return period.end === null
    ? 'the budget has no period end'
    : `the period ends at ${period.end.toISOString()}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
