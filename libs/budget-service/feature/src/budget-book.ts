import { Logger } from '@nestjs/common';
import { type BudgetTransaction } from '@stratavore/budget-service-data-access';
import {
  type Budget,
  type BudgetFigures,
  budgetFigures,
  type BudgetPeriodState,
  calendarPeriodAt,
  carryOverFrom,
  countedUsage,
  coveringScopes,
  EXCEEDED_THRESHOLD,
  nextPeriod,
  overrunsBudget,
  type PeriodBounds,
  periodRuleOf,
  scopeKey,
  thresholdsToFire,
  type UsageEntry,
  ZERO_AMOUNTS,
  ZERO_USAGE,
} from '@stratavore/budget-service-domain';

import { BudgetEventFactory } from './budget-event-factory';
import { type BudgetServiceDeps, type RequestContext } from './budget-service.deps';

/** More missed periods than this are skipped in one step (a service down for years). */
const MAX_CATCH_UP_PERIODS = 1000;

/**
 * The rules that change a budget's book, each inside the caller's transaction and under the
 * budget's row lock: roll its periods up to now (carrying over), book usage into the period it
 * was observed in, settle the runner's reservations, and fire thresholds once per period.
 */
export class BudgetBook {
  private readonly events: BudgetEventFactory;
  private readonly logger = new Logger('BudgetBook');

  constructor(private readonly deps: BudgetServiceDeps) {
    this.events = new BudgetEventFactory(deps);
  }

  /**
   * The budget's open period at `now`, after closing every period that has ended and opening
   * the next ones, each with the carry-over of the one before. Returns how many were rolled.
   */
  async currentPeriod(
    tx: BudgetTransaction,
    budget: Budget,
    now: Date,
  ): Promise<{ period: BudgetPeriodState; rolled: number }> {
    const rule = periodRuleOf(budget);
    let open = await tx.openPeriod(budget.id);
    if (!open) {
      // Every budget has an open period from its creation; recreate one if it went missing.
      open = this.newPeriod(
        budget,
        { start: now, end: calendarPeriodAt(now, rule).end },
        ZERO_AMOUNTS,
      );
      await tx.insertPeriod(open, { rebaselined: true });
      return { period: open, rolled: 0 };
    }
    let rolled = 0;
    while (open.end !== null && open.end.getTime() <= now.getTime()) {
      const carry =
        budget.period === 'none'
          ? ZERO_AMOUNTS
          : carryOverFrom(open, budget.tokenKinds, budget.rollover);
      const bounds =
        rolled < MAX_CATCH_UP_PERIODS ? nextPeriod(open, rule) : calendarPeriodAt(now, rule);
      if (rolled === MAX_CATCH_UP_PERIODS) {
        this.logger.warn(
          `budget ${budget.id}: more than ${MAX_CATCH_UP_PERIODS} periods missed; skipping to now`,
        );
      }
      await tx.closePeriod(open.id, null, now);
      const next = this.newPeriod(budget, bounds, carry);
      await tx.insertPeriod(next, { rebaselined: false });
      open = next;
      rolled++;
    }
    if (rolled > 0) this.deps.metrics.periodsRolled.inc(rolled);
    return { period: open, rolled };
  }

  /**
   * {@link currentPeriod} for several locked budgets, reading their open periods in one query
   * (rolling only those whose end has come).
   */
  async currentPeriods(
    tx: BudgetTransaction,
    budgets: readonly Budget[],
    now: Date,
  ): Promise<Map<string, BudgetPeriodState>> {
    const open = await tx.openPeriods(budgets.map((b) => b.id));
    for (const budget of budgets) {
      const period = open.get(budget.id);
      if (period && (period.end === null || period.end.getTime() > now.getTime())) continue;
      open.set(budget.id, (await this.currentPeriod(tx, budget, now)).period);
    }
    return open;
  }

  newPeriod(budget: Budget, bounds: PeriodBounds, carryOver: BudgetPeriodState['carryOver']) {
    return {
      id: this.deps.ids.uuid(),
      budgetId: budget.id,
      start: bounds.start,
      end: bounds.end,
      limits: budget.limits,
      carryOver,
      used: ZERO_USAGE,
    } satisfies BudgetPeriodState;
  }

  /** The budget's figures in `period` with what is reserved in it at `now`. */
  async figures(
    tx: BudgetTransaction,
    budget: Budget,
    period: BudgetPeriodState,
    now: Date,
  ): Promise<BudgetFigures> {
    const reserved = (await tx.reservedIn([budget.id], now)).get(budget.id) ?? ZERO_AMOUNTS;
    return budgetFigures(budget, period, reserved);
  }

  /**
   * Fires what the budget's open period has reached and not fired yet: each warning threshold
   * once, and `budget.exceeded` once (the threshold 1), each recorded with its event in this
   * transaction (the unique firing row makes "once" hold across processes).
   */
  async evaluate(
    tx: BudgetTransaction,
    budget: Budget,
    period: BudgetPeriodState,
    now: Date,
    ctx: RequestContext,
  ): Promise<BudgetFigures> {
    const figures = await this.figures(tx, budget, period, now);
    const fired = new Set((await tx.firedThresholds([period.id])).get(period.id) ?? []);
    const events = [];
    for (const threshold of thresholdsToFire(figures.ratio, budget.warnThresholds, fired)) {
      const event = this.events.warning(budget, period, figures, threshold, ctx);
      if (await tx.recordFiring(budget.id, period.id, threshold, event.id, now)) {
        events.push(event);
        this.deps.metrics.thresholdEvents.inc({ kind: 'warning' });
      }
    }
    if (figures.ratio >= EXCEEDED_THRESHOLD && !fired.has(EXCEEDED_THRESHOLD)) {
      const event = this.events.exceeded(budget, period, figures, ctx);
      if (await tx.recordFiring(budget.id, period.id, EXCEEDED_THRESHOLD, event.id, now)) {
        events.push(event);
        this.deps.metrics.thresholdEvents.inc({ kind: 'exceeded' });
      }
    }
    await tx.appendEvents(events);
    return figures;
  }

  /**
   * Books one usage event: into the ledger (once per event id: a second booking changes
   * nothing and returns `null`), then into every budget covering its project, in the period
   * holding `observedAt` (a late event for a closed period re-settles the carry-over of the
   * periods after it); shrinks the runner's reservations and fires thresholds. Returns the
   * budgets it was booked into.
   */
  async bookUsage(
    tx: BudgetTransaction,
    entry: UsageEntry,
    ctx: RequestContext,
  ): Promise<Budget[] | null> {
    if (!(await tx.insertLedgerEntry(entry))) return null;
    const now = this.deps.clock.now();
    const budgets = await tx.lockBudgets(coveringScopes(entry.projectId).map(scopeKey));
    const booked: Budget[] = [];
    for (const budget of budgets) {
      let { period: open } = await this.currentPeriod(tx, budget, now);
      const observed = entry.observedAt.getTime();
      const target =
        observed >= open.start.getTime()
          ? open
          : await tx.periodContaining(budget.id, entry.observedAt);
      if (target === null) continue; // observed before the budget (or its re-baseline) began
      const updated = await tx.addPeriodUsage(target.id, entry.usage);
      if (target.id === open.id) open = updated;
      else open = await this.resettleCarryOver(tx, budget, updated);
      const counted = countedUsage(entry.usage, budget.tokenKinds);
      await tx.settleReservations(entry.runnerId, budget.id, counted, entry.observedAt, now);
      const figures = await this.evaluate(tx, budget, open, now, ctx);
      if (target.id === open.id && overrunsBudget(budget.enforcement, figures.ratio, counted)) {
        await this.recordOverrun(tx, budget, open, figures, entry, now, ctx);
      }
      booked.push(budget);
    }
    return booked;
  }

  /**
   * The runner spent into a hard budget at or past its limit: `budget.overrun` for it, once per
   * runner per budget period (the overrun row and its event commit with the booking), so that
   * runner-manager stops it even when it started after the scope's runners were stopped.
   */
  private async recordOverrun(
    tx: BudgetTransaction,
    budget: Budget,
    period: BudgetPeriodState,
    figures: BudgetFigures,
    entry: UsageEntry,
    now: Date,
    ctx: RequestContext,
  ): Promise<void> {
    const eventId = this.deps.ids.uuid();
    if (!(await tx.recordOverrun(budget.id, period.id, entry.runnerId, eventId, now))) return;
    const runner = { runnerId: entry.runnerId, projectId: entry.projectId };
    await tx.appendEvents([this.events.overrun(budget, period, figures, runner, eventId, ctx)]);
    this.deps.metrics.thresholdEvents.inc({ kind: 'overrun' });
  }

  /**
   * After usage landed in a closed period: recomputes the carry-over of every later period
   * from the one before it, and returns the open period as it is now.
   */
  private async resettleCarryOver(
    tx: BudgetTransaction,
    budget: Budget,
    changed: BudgetPeriodState,
  ): Promise<BudgetPeriodState> {
    let previous = changed;
    for (const period of await tx.periodsAfter(budget.id, changed.start)) {
      const carryOver =
        budget.period === 'none'
          ? ZERO_AMOUNTS
          : carryOverFrom(previous, budget.tokenKinds, budget.rollover);
      if (
        carryOver.tokens !== period.carryOver.tokens ||
        carryOver.usdMicros !== period.carryOver.usdMicros
      ) {
        await tx.setPeriodCarryOver(period.id, carryOver);
      }
      previous = { ...period, carryOver };
    }
    return previous;
  }
}
