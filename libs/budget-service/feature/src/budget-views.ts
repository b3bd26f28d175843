import {
  type Amounts,
  type Budget,
  budgetFigures,
  type BudgetPeriodState,
  budgetStatus,
  EXCEEDED_THRESHOLD,
  type LimitAmounts,
  microsToUsd,
  type ReservationRecord,
  type Shortfall,
  shortfallMessage,
} from '@stratavore/budget-service-domain';
import {
  type BudgetReservation,
  type BudgetShortfall,
  type BudgetView,
  type LimitAmounts as LimitAmountsReply,
} from '@stratavore/contracts';

function amounts(value: Amounts) {
  return { tokens: value.tokens, usd: microsToUsd(value.usdMicros) };
}

function limitAmounts(value: LimitAmounts): LimitAmountsReply {
  return {
    tokens: value.tokens,
    usd: value.usdMicros === null ? null : microsToUsd(value.usdMicros),
  };
}

/** The API view of a budget in its open period (docs/budgets.md, "BudgetView"). */
export function toBudgetView(
  budget: Budget,
  period: BudgetPeriodState,
  reserved: Amounts,
  fired: readonly number[],
): BudgetView {
  const figures = budgetFigures(budget, period, reserved);
  return {
    id: budget.id,
    scope: budget.scope,
    limits: limitAmounts(budget.limits),
    tokenKinds: [...budget.tokenKinds],
    period: budget.period,
    timeZone: budget.timeZone,
    periodAnchor: { ...budget.anchor },
    warnThresholds: [...budget.warnThresholds],
    rollover: {
      enabled: budget.rollover.enabled,
      capTokens: budget.rollover.capTokens,
      capUsd:
        budget.rollover.capUsdMicros === null ? null : microsToUsd(budget.rollover.capUsdMicros),
    },
    enforcement: budget.enforcement,
    periodStart: period.start.toISOString(),
    periodEnd: period.end?.toISOString() ?? null,
    carryOver: amounts(period.carryOver),
    used: amounts(figures.used),
    reserved: amounts(figures.reserved),
    left: limitAmounts(figures.left),
    ratio: figures.ratio,
    thresholdsFired: fired.filter((threshold) => threshold < EXCEEDED_THRESHOLD),
    status: budgetStatus(figures.ratio, budget.warnThresholds),
    createdAt: budget.createdAt.toISOString(),
    updatedAt: budget.updatedAt.toISOString(),
  };
}

/** A shortfall as the API shows it (USD in dollars), with its sentence. */
export function toShortfallReply(
  shortfall: Shortfall,
  budget: Budget,
  projectName?: string,
): BudgetShortfall {
  const unit = shortfall.dimension === 'usd' ? microsToUsd : (n: number) => n;
  return {
    budgetId: shortfall.budgetId,
    scope: shortfall.scope,
    enforcement: shortfall.enforcement,
    period: budget.period,
    dimension: shortfall.dimension,
    limit: unit(shortfall.limit),
    carryOver: unit(shortfall.carryOver),
    used: unit(shortfall.used),
    reserved: unit(shortfall.reserved),
    left: unit(shortfall.left),
    requested: unit(shortfall.requested),
    periodEnd: shortfall.periodEnd?.toISOString() ?? null,
    message: shortfallMessage(shortfall, budget.period, projectName),
  };
}

/** One reservation row as the API shows it. */
export function toReservationReply(record: ReservationRecord, budget: Budget): BudgetReservation {
  return {
    budgetId: record.budgetId,
    scope: budget.scope,
    enforcement: budget.enforcement,
    tokens: record.remaining.tokens,
    usd: microsToUsd(record.remaining.usdMicros),
    expiresAt: record.expiresAt.toISOString(),
  };
}
