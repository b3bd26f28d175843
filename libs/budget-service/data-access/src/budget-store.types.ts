import {
  type Amounts,
  type Budget,
  type BudgetPeriodState,
  type LimitAmounts,
  type ReleaseReason,
  type ReservationRecord,
  type TokenUsage,
  type UsageEntry,
} from '@stratavore/budget-service-domain';
import { type EventEnvelope } from '@stratavore/contracts';

/** A budget's open period that has reached its end and waits to be rolled. */
export interface DuePeriod {
  readonly budgetId: string;
  readonly endsAt: Date;
}

/** Usage of one project on one local day. */
export interface UsageDayRow {
  readonly day: string;
  readonly projectId: string;
  readonly usage: TokenUsage;
  readonly events: number;
}

/**
 * A budget with its open period (`null` when it has none: being set or removed right now), what
 * its holding reservations hold at a moment, and the thresholds fired in that period.
 */
export interface BudgetStanding {
  readonly budget: Budget;
  readonly period: BudgetPeriodState | null;
  readonly reserved: Amounts;
  readonly fired: number[];
}

/** A budget with its open period (`null` when it has none). */
export interface BudgetWithOpenPeriod {
  readonly budget: Budget;
  readonly period: BudgetPeriodState | null;
}

/** What every unit of work can read (no ORM types). */
export interface BudgetReads {
  /** Ordered by scope key (`global` first). `scopeKeys` narrows to those scopes. */
  listBudgets(filter?: { readonly scopeKeys?: readonly string[] }): Promise<Budget[]>;
  findBudgetById(id: string): Promise<Budget | null>;
  findBudgetByScopeKey(scopeKey: string): Promise<Budget | null>;
  /** The open period of each budget named (every budget has one). */
  openPeriods(budgetIds: readonly string[]): Promise<Map<string, BudgetPeriodState>>;
  /**
   * Every budget with its open period, in one query (what `listBudgets` and `openPeriods` read
   * in two), so both come from the same snapshot. Ordered by scope key (`global` first).
   */
  budgetsWithOpenPeriods(): Promise<BudgetWithOpenPeriod[]>;
  /** Per budget: the sum of what its holding reservations still hold at `now`. */
  reservedIn(budgetIds: readonly string[], now: Date): Promise<Map<string, Amounts>>;
  /** Thresholds fired per period (1 = exceeded), ascending. */
  firedThresholds(periodIds: readonly string[]): Promise<Map<string, number[]>>;
  /**
   * The budgets of these scopes, each with its open period, reserved sums at `now` and fired
   * thresholds, in one query (what `listBudgets`, `openPeriods`, `reservedIn` and
   * `firedThresholds` read in four). Ordered by scope key.
   */
  standings(scopeKeys: readonly string[], now: Date): Promise<BudgetStanding[]>;
  /** Open periods whose end is at or before `now`, earliest first. */
  duePeriods(now: Date, limit: number): Promise<DuePeriod[]>;
  /** The earliest end of any open period (when the roller must act next). */
  nextPeriodEnd(): Promise<Date | null>;
  /** The reservation rows (one per budget) of a reservation id. */
  findReservation(reservationId: string): Promise<ReservationRecord[]>;
  /** The reservation rows of several reservation ids, ordered by reservation then budget. */
  findReservations(reservationIds: readonly string[]): Promise<ReservationRecord[]>;
  /** Ledger usage per local day in `timeZone` and project, over `[from, to)`. */
  usageByDay(query: {
    readonly from: Date;
    readonly to: Date;
    readonly timeZone: string;
    readonly projectId?: string;
  }): Promise<UsageDayRow[]>;
}

/** budget-service's transaction handle: its tables, locks, the outbox and the inbox. */
export interface BudgetTransaction extends BudgetReads {
  /** `pg_advisory_xact_lock` on `budget:scope:<key>`: serializes set/remove of one scope. */
  lockScope(scopeKey: string): Promise<void>;
  /**
   * Takes the row locks (`FOR UPDATE`) of the budgets of these scopes, in id order (so that
   * concurrent transactions never deadlock), and returns them. Every change to a budget's
   * periods and reservations happens under its row lock.
   */
  lockBudgets(scopeKeys: readonly string[]): Promise<Budget[]>;
  lockBudgetById(id: string): Promise<Budget | null>;
  insertBudget(budget: Budget): Promise<void>;
  updateBudget(budget: Budget): Promise<void>;
  deleteBudget(id: string): Promise<void>;

  openPeriod(budgetId: string): Promise<BudgetPeriodState | null>;
  /** The period of the budget holding `at` (`starts_at <= at < ends_at`), open or closed. */
  periodContaining(budgetId: string, at: Date): Promise<BudgetPeriodState | null>;
  /** The budget's periods starting after `start`, oldest first. */
  periodsAfter(budgetId: string, start: Date): Promise<BudgetPeriodState[]>;
  insertPeriod(
    period: BudgetPeriodState,
    options: { readonly rebaselined: boolean },
  ): Promise<void>;
  /** Closes the period; `endsAt` replaces its end (a re-baselined period ends at the change). */
  closePeriod(periodId: string, endsAt: Date | null, closedAt: Date): Promise<void>;
  /** Adds usage to the period; returns it as updated. */
  addPeriodUsage(periodId: string, usage: TokenUsage): Promise<BudgetPeriodState>;
  setPeriodCarryOver(periodId: string, carryOver: Amounts): Promise<void>;
  /** Moves the end of an open period (a re-baseline in the instant the period began). */
  setPeriodEnd(periodId: string, end: Date | null): Promise<void>;
  setPeriodLimits(periodId: string, limits: LimitAmounts): Promise<void>;

  /**
   * Inserts reservation rows; returns how many were new (a row of the same reservation and
   * budget, inserted concurrently under the same idempotency key, is kept as it is).
   */
  insertReservations(records: readonly ReservationRecord[]): Promise<number>;
  /**
   * Shrinks the runner's holding reservations in `budgetId` by `used` (never below 0) and
   * renews their expiry to `at + ttl` when later. Reservations already past expiry stay lapsed.
   */
  settleReservations(
    runnerId: string,
    budgetId: string,
    used: Amounts,
    at: Date,
    now: Date,
  ): Promise<void>;
  /** Releases the holding rows of a reservation or of a runner; returns how many. */
  releaseReservations(
    by: { readonly reservationId: string } | { readonly runnerId: string },
    now: Date,
    reason: ReleaseReason,
  ): Promise<Array<{ readonly budgetId: string }>>;
  /**
   * Marks up to `limit` reservations past their expiry as released (`expired`), skipping rows
   * another transaction holds; returns their budgets.
   */
  expireReservations(now: Date, limit: number): Promise<Array<{ readonly budgetId: string }>>;

  /** Books a usage event; false (and nothing written) when its event id is already booked. */
  insertLedgerEntry(entry: UsageEntry): Promise<boolean>;

  /** Records a firing; false when that threshold already fired in that period. */
  recordFiring(
    budgetId: string,
    periodId: string,
    threshold: number,
    eventId: string,
    at: Date,
  ): Promise<boolean>;
  /**
   * Records that a runner spent into the budget past its limit in this period (its
   * `budget.overrun`); false when it was already recorded for that runner in that period.
   */
  recordOverrun(
    budgetId: string,
    periodId: string,
    runnerId: string,
    eventId: string,
    at: Date,
  ): Promise<boolean>;
  /** Forgets the period's overruns (the exceeded threshold was re-armed by a raised limit). */
  deleteOverruns(periodId: string): Promise<void>;
  /** Forgets firings of the period (re-arms those thresholds). */
  deleteFirings(periodId: string, thresholds: readonly number[]): Promise<void>;

  /** Writes events to `messaging.outbox` in this transaction. */
  appendEvents(envelopes: readonly EventEnvelope[]): Promise<void>;
  /** Records (consumer, event id) in `messaging.inbox`; false when already there. */
  claimInbox(consumer: string, eventId: string): Promise<boolean>;
}

/** Runs work in one transaction (commit on resolve, rollback on throw), or reads outside one. */
export interface BudgetUnitOfWork {
  transaction<T>(work: (tx: BudgetTransaction) => Promise<T>): Promise<T>;
  read<T>(work: (reads: BudgetReads) => Promise<T>): Promise<T>;
}

/** The advisory lock key of a scope's configuration. */
export function scopeLockKey(scopeKey: string): string {
  return `budget:scope:${scopeKey}`;
}
