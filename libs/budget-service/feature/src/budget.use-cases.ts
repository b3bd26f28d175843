import { type BudgetReads } from '@stratavore/budget-service-data-access';
import {
  addDays,
  addUsage,
  type Amounts,
  type Budget,
  type BudgetConfig,
  BudgetException,
  type BudgetPeriodState,
  coveringScopes,
  EXCEEDED_THRESHOLD,
  instantOfWallClock,
  microsToUsd,
  periodRuleChanged,
  periodRuleOf,
  periodStartingAt,
  resolveAnchor,
  scopeKey,
  type TokenUsage,
  usdToMicros,
  wallClockOf,
  ZERO_AMOUNTS,
  ZERO_USAGE,
} from '@stratavore/budget-service-domain';
import {
  type BudgetScope,
  type BudgetView,
  type GetBudgetRequest,
  type ListBudgetsRequest,
  type RemoveBudgetRequest,
  type SetBudgetReply,
  type SetBudgetRequest,
  type UsageSummaryReply,
  type UsageSummaryRequest,
} from '@stratavore/contracts';

import { BudgetBook } from './budget-book';
import { type BudgetServiceDeps, type RequestContext } from './budget-service.deps';
import { toBudgetView } from './budget-views';

/** The configuration `budgets.set` asks for, in the domain's units. */
export function budgetConfigOf(request: SetBudgetRequest): BudgetConfig {
  return {
    scope: request.scope,
    limits: {
      tokens: request.limitTokens ?? null,
      usdMicros: request.limitUsd === undefined ? null : usdToMicros(request.limitUsd),
    },
    tokenKinds: [...request.tokenKinds],
    period: request.period,
    timeZone: request.timeZone,
    anchor: resolveAnchor(request.periodAnchor, request.timeZone),
    warnThresholds: [...request.warnThresholds],
    rollover: {
      enabled: request.rollover.enabled,
      capTokens: request.rollover.capTokens ?? null,
      capUsdMicros:
        request.rollover.capUsd === undefined ? null : usdToMicros(request.rollover.capUsd),
    },
    enforcement: request.enforcement,
  };
}

/** One budget with its open period and what is reserved and fired in it now. */
export interface BudgetSnapshot {
  readonly budget: Budget;
  readonly period: BudgetPeriodState;
  readonly reserved: Amounts;
  readonly fired: number[];
}

/** Reads budgets as they stand now (rolling first any period whose end has come). */
export class BudgetQueries {
  private readonly book: BudgetBook;

  constructor(private readonly deps: BudgetServiceDeps) {
    this.book = new BudgetBook(deps);
  }

  async list(request: ListBudgetsRequest): Promise<{ budgets: BudgetView[] }> {
    const budgets = await this.deps.store.read((reads) =>
      reads.listBudgets(
        request.projectId === undefined
          ? {}
          : { scopeKeys: coveringScopes(request.projectId).map(scopeKey) },
      ),
    );
    return { budgets: (await this.snapshots(budgets)).map(viewOf) };
  }

  async get(request: GetBudgetRequest): Promise<BudgetView> {
    const budget = await this.deps.store.read((reads) => findBudget(reads, request));
    if (!budget) throw BudgetException.budgetNotFound(request);
    const [snapshot] = await this.snapshots([budget]);
    if (!snapshot) throw BudgetException.budgetNotFound(request);
    return viewOf(snapshot);
  }

  /**
   * The budgets covering a project (global first), as they stand now: one query (the check of
   * every launch), unless a period is due, which {@link snapshots} rolls first.
   */
  async covering(projectId: string): Promise<BudgetSnapshot[]> {
    const now = this.deps.clock.now();
    const standings = await this.deps.store.read((reads) =>
      reads.standings(coveringScopes(projectId).map(scopeKey), now),
    );
    const current: BudgetSnapshot[] = [];
    for (const { budget, period, reserved, fired } of standings) {
      if (period === null || (period.end !== null && period.end.getTime() <= now.getTime())) {
        return this.snapshots(standings.map((standing) => standing.budget));
      }
      current.push({ budget, period, reserved, fired });
    }
    return current;
  }

  /**
   * Budgets with their open periods at `now`. The period roller rolls periods on time; a read
   * that finds one past its end (the roller is a moment behind, or no replica leads) rolls it
   * itself first, so an answer never shows a period that is over.
   */
  async snapshots(budgets: readonly Budget[]): Promise<BudgetSnapshot[]> {
    if (budgets.length === 0) return [];
    const now = this.deps.clock.now();
    const ids = budgets.map((b) => b.id);
    let periods = await this.deps.store.read((reads) => reads.openPeriods(ids));
    const due = budgets.filter((b) => {
      const end = periods.get(b.id)?.end;
      return end === undefined || (end !== null && end.getTime() <= now.getTime());
    });
    if (due.length > 0) {
      for (const budget of due) {
        await this.deps.store.transaction(async (tx) => {
          const locked = await tx.lockBudgetById(budget.id);
          if (locked) await this.book.currentPeriod(tx, locked, now);
        });
      }
      periods = await this.deps.store.read((reads) => reads.openPeriods(ids));
    }
    const [reserved, fired] = await this.deps.store.read((reads) =>
      Promise.all([
        reads.reservedIn(ids, now),
        reads.firedThresholds([...periods.values()].map((p) => p.id)),
      ]),
    );
    return budgets.flatMap((budget) => {
      const period = periods.get(budget.id);
      if (!period) return []; // removed meanwhile
      return [
        {
          budget,
          period,
          reserved: reserved.get(budget.id) ?? ZERO_AMOUNTS,
          fired: fired.get(period.id) ?? [],
        },
      ];
    });
  }
}

export function viewOf(snapshot: BudgetSnapshot): BudgetView {
  return toBudgetView(snapshot.budget, snapshot.period, snapshot.reserved, snapshot.fired);
}

function findBudget(
  reads: BudgetReads,
  ref: { budgetId?: string; scope?: BudgetScope },
): Promise<Budget | null> {
  if (ref.budgetId !== undefined) return reads.findBudgetById(ref.budgetId);
  if (ref.scope !== undefined) return reads.findBudgetByScopeKey(scopeKey(ref.scope));
  return Promise.resolve(null);
}

/**
 * `budgets.set`: creates the scope's budget with its first period starting now, or replaces its
 * configuration. A change of period, time zone or anchor re-baselines: the open period closes
 * now and a new one starts now from zero (no carry-over), so spend under the old rule never
 * makes the budget over at once. Any other change keeps the period and its spend; limits
 * apply to it at once, thresholds the spend no longer reaches under the new limits are
 * re-armed, and thresholds it now reaches fire.
 */
export class SetBudget {
  private readonly book: BudgetBook;

  constructor(
    private readonly deps: BudgetServiceDeps,
    /** Called once the change is committed. */
    private readonly onChanged: () => void = () => undefined,
  ) {
    this.book = new BudgetBook(deps);
  }

  async execute(request: SetBudgetRequest, ctx: RequestContext): Promise<SetBudgetReply> {
    const config = budgetConfigOf(request);
    const key = scopeKey(request.scope);
    const result = await this.deps.store.transaction(async (tx) => {
      await tx.lockScope(key);
      const now = this.deps.clock.now();
      const found = await tx.findBudgetByScopeKey(key);
      const existing = found && (await tx.lockBudgetById(found.id));
      let budget: Budget;
      let period: BudgetPeriodState;
      let rebaselined = false;
      if (!existing) {
        budget = { ...config, id: this.deps.ids.uuid(), createdAt: now, updatedAt: now };
        await tx.insertBudget(budget);
        period = this.book.newPeriod(
          budget,
          periodStartingAt(now, periodRuleOf(budget)),
          ZERO_AMOUNTS,
        );
        await tx.insertPeriod(period, { rebaselined: false });
      } else {
        ({ period } = await this.book.currentPeriod(tx, existing, now));
        budget = { ...config, id: existing.id, createdAt: existing.createdAt, updatedAt: now };
        await tx.updateBudget(budget);
        rebaselined = periodRuleChanged(periodRuleOf(existing), periodRuleOf(budget));
        if (rebaselined) {
          const bounds = periodStartingAt(now, periodRuleOf(budget));
          if (period.start.getTime() < now.getTime()) {
            await tx.closePeriod(period.id, now, now);
            period = this.book.newPeriod(budget, bounds, ZERO_AMOUNTS);
            await tx.insertPeriod(period, { rebaselined: true });
          } else {
            // The open period began this very instant: it only takes the new rule's end.
            await tx.setPeriodEnd(period.id, bounds.end);
            await tx.setPeriodLimits(period.id, budget.limits);
            period = { ...period, end: bounds.end, limits: budget.limits };
          }
        } else {
          await tx.setPeriodLimits(period.id, budget.limits);
          period = { ...period, limits: budget.limits };
        }
        const figures = await this.book.figures(tx, budget, period, now);
        const fired = (await tx.firedThresholds([period.id])).get(period.id) ?? [];
        const rearmed = fired.filter((threshold) => figures.ratio < threshold);
        await tx.deleteFirings(period.id, rearmed);
        // Below the limit again: a runner spending past it again overruns again.
        if (rearmed.includes(EXCEEDED_THRESHOLD)) await tx.deleteOverruns(period.id);
      }
      const figures = await this.book.evaluate(tx, budget, period, now, ctx);
      const fired = (await tx.firedThresholds([period.id])).get(period.id) ?? [];
      return {
        created: !existing,
        rebaselined,
        view: toBudgetView(budget, period, figures.reserved, fired),
      };
    });
    this.onChanged();
    return { created: result.created, rebaselined: result.rebaselined, budget: result.view };
  }
}

/** `budgets.remove`: deletes the budget with its periods, reservations and firings. */
export class RemoveBudget {
  constructor(
    private readonly deps: BudgetServiceDeps,
    private readonly queries: BudgetQueries,
  ) {}

  async execute(request: RemoveBudgetRequest): Promise<{ removed: BudgetView }> {
    const budget = await this.deps.store.read((reads) => findBudget(reads, request));
    if (!budget) throw BudgetException.budgetNotFound(request);
    const [snapshot] = await this.queries.snapshots([budget]);
    const removed = await this.deps.store.transaction(async (tx) => {
      await tx.lockScope(scopeKey(budget.scope));
      const locked = await tx.lockBudgetById(budget.id);
      if (!locked) return false;
      await tx.deleteBudget(budget.id);
      return true;
    });
    if (!removed || !snapshot) throw BudgetException.budgetNotFound(request);
    return { removed: viewOf(snapshot) };
  }
}

/**
 * `usage.summary`: the ledger per local day and project over `[from, to)` (default: the last
 * `days` local days up to now, today included), with the budgets in view as they stand now.
 */
export class UsageSummary {
  constructor(
    private readonly deps: BudgetServiceDeps,
    private readonly queries: BudgetQueries,
  ) {}

  async execute(request: UsageSummaryRequest): Promise<UsageSummaryReply> {
    const now = this.deps.clock.now();
    const to = request.to === undefined ? now : new Date(request.to);
    const from =
      request.from === undefined
        ? new Date(
            instantOfWallClock(
              addDays(wallClockOf(to.getTime() - 1, request.timeZone), -(request.days - 1)),
              0,
              request.timeZone,
            ),
          )
        : new Date(request.from);
    const rows = await this.deps.store.read((reads) =>
      reads.usageByDay({ from, to, timeZone: request.timeZone, projectId: request.projectId }),
    );
    const budgets =
      request.projectId === undefined
        ? (await this.queries.list({})).budgets
        : (await this.queries.covering(request.projectId)).map(viewOf);
    const days = rows.map((row) => ({
      day: row.day,
      projectId: row.projectId,
      ...totalsOf(row.usage, row.events),
    }));
    const total = rows.reduce(
      (sum, row) => ({ usage: addUsage(sum.usage, row.usage), events: sum.events + row.events }),
      { usage: ZERO_USAGE, events: 0 },
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      timeZone: request.timeZone,
      budgets,
      days,
      totals: totalsOf(total.usage, total.events),
    };
  }
}

function totalsOf(usage: TokenUsage, events: number) {
  return {
    inputTokens: usage.input,
    outputTokens: usage.output,
    cacheCreationTokens: usage.cacheCreation,
    cacheReadTokens: usage.cacheRead,
    totalTokens: usage.input + usage.output + usage.cacheCreation + usage.cacheRead,
    costUsd: microsToUsd(usage.usdMicros),
    events,
  };
}
