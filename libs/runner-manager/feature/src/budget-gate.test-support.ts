import { type BudgetShortfall } from '@stratavore/contracts';

import {
  type BudgetGate,
  type BudgetReservationOutcome,
  type BudgetReservationRequest,
} from './budget-gate.port';

type Answer = (request: BudgetReservationRequest) => BudgetReservationOutcome;

/**
 * A strict budget-service stand-in: answers reservations with the answers a test queued, in
 * order, then with `fallback` if one is set; any other reservation throws. Records every
 * reservation and release.
 */
export class FakeBudgetGate implements BudgetGate {
  readonly reservations: BudgetReservationRequest[] = [];
  readonly releases: string[] = [];
  fallback: Answer | null = null;
  private readonly answers: Answer[] = [];

  answer(...answers: Answer[]): this {
    this.answers.push(...answers);
    return this;
  }

  reserve(request: BudgetReservationRequest): Promise<BudgetReservationOutcome> {
    this.reservations.push(request);
    const next = this.answers.shift() ?? this.fallback;
    if (!next) {
      return Promise.reject(new Error(`unexpected reservation for runner ${request.runnerId}`));
    }
    return Promise.resolve(next(request));
  }

  release(reservationId: string): Promise<void> {
    this.releases.push(reservationId);
    return Promise.resolve();
  }

  /** Fails when a queued answer was never used. */
  assertSatisfied(): void {
    if (this.answers.length > 0) {
      throw new Error(`${this.answers.length} budget answer(s) never asked for`);
    }
  }
}

/** A grant; `leftUsd` as budget-service computes it for the tightest hard budget. */
export const grant =
  (leftUsd: number | null = null): Answer =>
  (request) => ({
    status: 'granted',
    reservationId: request.reservationId,
    leftTokens: null,
    leftUsd,
    softOverruns: [],
  });

/** One shortfall of a daily token budget, as budget-service describes it. */
export function tokenShortfall(projectId: string, message: string): BudgetShortfall {
  return {
    budgetId: '33333333-3333-4333-8333-333333333333',
    scope: { kind: 'project', projectId },
    enforcement: 'hard',
    period: 'daily',
    dimension: 'tokens',
    limit: 1_000_000,
    carryOver: 0,
    used: 990_000,
    reserved: 8_000,
    left: 2_000,
    requested: 50_000,
    periodEnd: '2026-11-25T00:00:00.000Z',
    message,
  };
}

/** A refusal with budget-service's message. */
export const refuse =
  (message: string): Answer =>
  (request) => ({
    status: 'refused',
    refusal: {
      reservationId: request.reservationId,
      message,
      refusals: [tokenShortfall(request.project.id, message)],
    },
  });

/** budget-service could not be reached. */
export const unavailable =
  (reason: string): Answer =>
  () => ({ status: 'unavailable', reason });
