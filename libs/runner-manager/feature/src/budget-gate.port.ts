import { type BudgetShortfall } from '@stratavore/contracts';
import {
  type BudgetRefusal,
  type LaunchEstimate,
  type Project,
} from '@stratavore/runner-manager-domain';

/** One launch's reservation: `reservationId` is the idempotency key, one per launch. */
export interface BudgetReservationRequest {
  readonly reservationId: string;
  readonly runnerId: string;
  readonly project: Pick<Project, 'id' | 'name'>;
  readonly estimate: LaunchEstimate;
}

/** What budget-service made of a reservation. */
export type BudgetReservationOutcome =
  | {
      readonly status: 'granted';
      readonly reservationId: string;
      /** What the runner may spend before the tightest hard budget; `null`: not limited. */
      readonly leftTokens: number | null;
      readonly leftUsd: number | null;
      /** Soft budgets the launch overruns: allowed, with a warning. */
      readonly softOverruns: readonly BudgetShortfall[];
    }
  | { readonly status: 'refused'; readonly refusal: BudgetRefusal }
  /** No usable answer (no responder, timeout, failure): the launch must not start unchecked. */
  | { readonly status: 'unavailable'; readonly reason: string };

/**
 * runner-manager's view of budget-service: reserve before a launch, release a reservation
 * whose launch did not happen. Served over the bus in production ({@link BusBudgetGate}).
 */
export interface BudgetGate {
  /** Never rejects: a transport failure is `unavailable`. */
  reserve(
    request: BudgetReservationRequest,
    ctx: { readonly correlationId: string },
  ): Promise<BudgetReservationOutcome>;
  /**
   * Gives back a reservation whose launch did not happen (quota refusal, queued instead, a
   * failed transaction). Best effort, never rejects: a reservation that could not be released
   * expires with its time to live.
   */
  release(reservationId: string, ctx: { readonly correlationId: string }): Promise<void>;
}
