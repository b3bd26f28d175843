import { performance } from 'node:perf_hooks';

import { type BudgetTransaction } from '@stratavore/budget-service-data-access';
import {
  type Amounts,
  type Budget,
  BudgetException,
  type BudgetFigures,
  budgetFigures,
  type BudgetPeriodState,
  coveringScopes,
  isHolding,
  type ReleaseReason,
  type ReservationRecord,
  scopeKey,
  type Shortfall,
  shortfallsOf,
  usdToMicros,
  ZERO_AMOUNTS,
} from '@stratavore/budget-service-domain';
import {
  type BudgetShortfall,
  type CheckBudgetReply,
  type CheckBudgetRequest,
  type EventEnvelope,
  type ReleaseBudgetReply,
  type ReleaseBudgetRequest,
  type ReserveBudgetReply,
  type ReserveBudgetRequest,
  type UsageEstimate,
} from '@stratavore/contracts';

import { type BudgetQueries, viewOf } from './budget.use-cases';
import { BudgetBook } from './budget-book';
import { BudgetEventFactory } from './budget-event-factory';
import { type BudgetServiceDeps, type RequestContext } from './budget-service.deps';
import { toReservationReply, toShortfallReply } from './budget-views';

function estimateOf(estimate: UsageEstimate): Amounts {
  return { tokens: estimate.tokens, usdMicros: usdToMicros(estimate.usd) };
}

interface Judged {
  readonly budget: Budget;
  readonly figures: BudgetFigures;
  readonly shortfalls: Shortfall[];
}

function judge(
  budget: Budget,
  period: BudgetPeriodState,
  reserved: Amounts,
  estimate: Amounts,
): Judged {
  const figures = budgetFigures(budget, period, reserved);
  return {
    budget,
    figures,
    shortfalls: shortfallsOf(budget, figures, period.carryOver, estimate, period.end),
  };
}

function judgeAll(
  budgets: readonly Budget[],
  periods: ReadonlyMap<string, BudgetPeriodState>,
  reserved: ReadonlyMap<string, Amounts>,
  amount: Amounts,
): Judged[] {
  return budgets.flatMap((budget) => {
    const period = periods.get(budget.id);
    return period ? [judge(budget, period, reserved.get(budget.id) ?? ZERO_AMOUNTS, amount)] : [];
  });
}

function replies(judged: readonly Judged[], enforcement: 'hard' | 'soft', projectName?: string) {
  return judged
    .filter((j) => j.budget.enforcement === enforcement)
    .flatMap((j) => j.shortfalls.map((s) => toShortfallReply(s, j.budget, projectName)));
}

function refusalMessage(refusals: readonly BudgetShortfall[]): string {
  return `launch refused: ${refusals.map((r) => r.message).join('; and ')}`;
}

/** Smallest of `own + left` over the hard budgets limiting a dimension; `null` when none does. */
function leftFor(
  judged: readonly Judged[],
  dimension: 'tokens' | 'usdMicros',
  own: (budgetId: string) => number,
): number | null {
  let least: number | null = null;
  for (const { budget, figures } of judged) {
    const left = figures.left[dimension];
    if (budget.enforcement !== 'hard' || left === null) continue;
    const mine = left + own(budget.id);
    least = least === null ? mine : Math.min(least, mine);
  }
  return least;
}

function usd(micros: number | null): number | null {
  return micros === null ? null : micros / 1_000_000;
}

function replyRows(records: readonly ReservationRecord[], budgets: readonly Budget[]) {
  const byId = new Map(budgets.map((b) => [b.id, b]));
  return records.flatMap((r) => {
    const budget = byId.get(r.budgetId);
    return budget ? [toReservationReply(r, budget)] : [];
  });
}

/** `budgets.check`: would a launch with this estimate be admitted now? Reserves nothing. */
export class CheckBudget {
  constructor(private readonly queries: BudgetQueries) {}

  async execute(request: CheckBudgetRequest): Promise<CheckBudgetReply> {
    const snapshots = await this.queries.covering(request.projectId);
    const estimate = estimateOf(request.estimate);
    const judged = snapshots.map((s) => judge(s.budget, s.period, s.reserved, estimate));
    const refusals = replies(judged, 'hard', request.projectName);
    return {
      allowed: refusals.length === 0,
      refusals,
      softOverruns: replies(judged, 'soft', request.projectName),
      budgets: snapshots.map(viewOf),
      message: refusals.length === 0 ? null : refusalMessage(refusals),
    };
  }
}

type Outcome =
  | { readonly ok: true; readonly reply: ReserveBudgetReply; readonly repeated: boolean }
  | { readonly ok: false; readonly error: BudgetException };

interface Pending {
  readonly request: ReserveBudgetRequest;
  readonly ctx: RequestContext;
  readonly resolve: (reply: ReserveBudgetReply) => void;
  readonly reject: (error: unknown) => void;
}

/** A twin of a reservation in the batch was inserted concurrently: decide the batch again. */
class ConcurrentTwin extends Error {}

const MAX_ATTEMPTS = 3;

/**
 * `budgets.reserve`. Each decision happens in a transaction holding the row locks of every
 * budget covering the launch (taken in id order, so concurrent transactions queue instead of
 * deadlocking): the periods are rolled, what the holding reservations hold is summed, and the
 * estimate is refused (a hard budget cannot take it) or one reservation row per budget is
 * inserted. The lock is what keeps concurrent reservations, through any number of processes,
 * from ever together exceeding a limit.
 *
 * Requests that arrive while a decision is in flight are decided together in the next
 * transaction, one after the other against the running totals (group commit): one commit
 * per batch instead of one per reservation, which is what bounds throughput under a lock.
 */
export class ReserveBudget {
  private readonly book: BudgetBook;
  private readonly events: BudgetEventFactory;
  private readonly queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly deps: BudgetServiceDeps,
    private readonly maxBatch = 100,
  ) {
    this.book = new BudgetBook(deps);
    this.events = new BudgetEventFactory(deps);
  }

  /** Decides a reservation; a refusal is announced as `budget.refused` in the same transaction. */
  execute(request: ReserveBudgetRequest, ctx: RequestContext): Promise<ReserveBudgetReply> {
    return new Promise<ReserveBudgetReply>((resolve, reject) => {
      this.queue.push({ request, ctx, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const started = performance.now();
        try {
          const outcomes = await this.decideWithRetry(batch);
          batch.forEach((pending, i) => {
            const outcome = outcomes[i];
            if (!outcome) pending.reject(new Error('no decision for this reservation'));
            else if (outcome.ok) pending.resolve(outcome.reply);
            else pending.reject(outcome.error);
          });
          this.count(outcomes);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
        this.deps.metrics.reserveDuration.observe((performance.now() - started) / 1000);
      }
    } finally {
      this.draining = false;
    }
  }

  private async decideWithRetry(batch: readonly Pending[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.store.transaction((tx) => this.decide(tx, batch));
      } catch (error) {
        if (!(error instanceof ConcurrentTwin) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async decide(tx: BudgetTransaction, batch: readonly Pending[]): Promise<Outcome[]> {
    const requests = batch.map((p) => p.request);
    // The idempotency check needs no lock: a twin inserted concurrently is caught at the insert.
    const known = groupBy(
      await tx.findReservations([...new Set(requests.map((r) => r.reservationId))]),
      (r) => r.reservationId,
    );
    const keys = [...new Set(requests.flatMap((r) => coveringScopes(r.projectId).map(scopeKey)))];
    const budgets = await tx.lockBudgets(keys);
    const now = this.deps.clock.now();
    const periods = await this.book.currentPeriods(tx, budgets, now);
    const reserved = new Map(
      await tx.reservedIn(
        budgets.map((b) => b.id),
        now,
      ),
    );
    const byScope = new Map(budgets.map((b) => [scopeKey(b.scope), b]));
    const records: ReservationRecord[] = [];
    const refused: EventEnvelope[] = [];
    const outcomes = batch.map(({ request, ctx }): Outcome => {
      const covering = coveringScopes(request.projectId).flatMap((scope) => {
        const budget = byScope.get(scopeKey(scope));
        return budget ? [budget] : [];
      });
      const prior = known.get(request.reservationId);
      if (prior) return this.repeated(request, prior, covering, periods, reserved, now);
      const estimate = estimateOf(request.estimate);
      const judged = judgeAll(covering, periods, reserved, estimate);
      const refusals = replies(judged, 'hard', request.projectName);
      if (refusals.length > 0) {
        const message = refusalMessage(refusals);
        refused.push(this.events.refused(request, refusals, message, ctx));
        return {
          ok: true,
          repeated: false,
          reply: { status: 'refused', reservationId: request.reservationId, refusals, message },
        };
      }
      const expiresAt = new Date(now.getTime() + request.ttlMs);
      const granted = covering.map((budget): ReservationRecord => ({
        reservationId: request.reservationId,
        budgetId: budget.id,
        runnerId: request.runnerId,
        projectId: request.projectId,
        estimate,
        remaining: estimate,
        ttlMs: request.ttlMs,
        createdAt: now,
        expiresAt,
        releasedAt: null,
        releaseReason: null,
      }));
      for (const budget of covering) {
        const held = reserved.get(budget.id) ?? ZERO_AMOUNTS;
        reserved.set(budget.id, {
          tokens: held.tokens + estimate.tokens,
          usdMicros: held.usdMicros + estimate.usdMicros,
        });
      }
      records.push(...granted);
      known.set(request.reservationId, granted);
      return {
        ok: true,
        repeated: false,
        reply: {
          status: 'granted',
          reservationId: request.reservationId,
          reservations: replyRows(granted, covering),
          // `left` was judged before this reservation: it is what this runner may spend.
          leftTokens: leftFor(judged, 'tokens', () => 0),
          leftUsd: usd(leftFor(judged, 'usdMicros', () => 0)),
          softOverruns: replies(judged, 'soft', request.projectName),
        },
      };
    });
    if ((await tx.insertReservations(records)) < records.length) throw new ConcurrentTwin();
    if (refused.length > 0) await tx.appendEvents(refused);
    return outcomes;
  }

  /** A reservation id seen before: the same grant again (after checking it is the same launch). */
  private repeated(
    request: ReserveBudgetRequest,
    existing: readonly ReservationRecord[],
    covering: readonly Budget[],
    periods: ReadonlyMap<string, BudgetPeriodState>,
    reserved: ReadonlyMap<string, Amounts>,
    now: Date,
  ): Outcome {
    if (
      existing.some((r) => r.runnerId !== request.runnerId || r.projectId !== request.projectId)
    ) {
      return { ok: false, error: BudgetException.reservationConflict(request.reservationId) };
    }
    const own = new Map(existing.filter((r) => isHolding(r, now)).map((r) => [r.budgetId, r]));
    const judged = judgeAll(covering, periods, reserved, ZERO_AMOUNTS);
    return {
      ok: true,
      repeated: true,
      reply: {
        status: 'granted',
        reservationId: request.reservationId,
        reservations: replyRows(existing, covering),
        leftTokens: leftFor(judged, 'tokens', (id) => own.get(id)?.remaining.tokens ?? 0),
        leftUsd: usd(leftFor(judged, 'usdMicros', (id) => own.get(id)?.remaining.usdMicros ?? 0)),
        softOverruns: [],
      },
    };
  }

  private count(outcomes: readonly Outcome[]): void {
    const { metrics } = this.deps;
    for (const outcome of outcomes) {
      if (!outcome.ok) continue;
      if (outcome.repeated) {
        metrics.reservations.inc({ outcome: 'repeated' });
      } else if (outcome.reply.status === 'granted') {
        metrics.reservations.inc({ outcome: 'granted' });
      } else {
        metrics.reservations.inc({ outcome: 'refused' });
        for (const refusal of outcome.reply.refusals) {
          metrics.refusals.inc({ scope_kind: refusal.scope.kind, dimension: refusal.dimension });
        }
      }
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * `budgets.release` and the runner's end: stops the reservation's (or the runner's) rows from
 * holding budget. Releasing only ever makes room, so it takes no budget lock.
 */
export class ReleaseBudget {
  constructor(private readonly deps: BudgetServiceDeps) {}

  async execute(
    request: ReleaseBudgetRequest,
    reason: ReleaseReason = 'released',
  ): Promise<ReleaseBudgetReply> {
    const by =
      request.reservationId !== undefined
        ? { reservationId: request.reservationId }
        : { runnerId: request.runnerId ?? '' };
    const now = this.deps.clock.now();
    const released = await this.deps.store.transaction((tx) =>
      tx.releaseReservations(by, now, reason),
    );
    if (released.length > 0) {
      this.deps.metrics.reservationsReleased.inc({ reason }, released.length);
    }
    return { released: released.length };
  }
}
