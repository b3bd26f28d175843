import { BUDGET_SERVICE, BudgetErrorCode } from '@stratavore/contracts';
import {
  BusError,
  BusErrorCode,
  RemoteRequestError,
  type RequestClient,
} from '@stratavore/messaging';

import { BusBudgetGate } from './bus-budget-gate';

const projectId = '22222222-2222-4222-8222-222222222222';
const runnerId = '11111111-1111-4111-8111-111111111111';
const reservationId = '44444444-4444-4444-8444-444444444444';
const ctx = { correlationId: 'c-1' };

type Answer = () => unknown;

/** A strict request client: answers the queued answers in order, fails on any other call. */
class FakeRequests implements RequestClient {
  readonly calls: Array<{ service: string; pattern: string; payload: unknown; options: unknown }> =
    [];
  private readonly answers: Answer[] = [];

  answer(...answers: Answer[]): this {
    this.answers.push(...answers);
    return this;
  }

  request<T>(service: string, pattern: string, payload: unknown, options?: unknown): Promise<T> {
    this.calls.push({ service, pattern, payload, options });
    const next = this.answers.shift();
    if (!next) return Promise.reject(new Error(`unexpected request ${pattern}`));
    try {
      return Promise.resolve(next() as T);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

const request = {
  reservationId,
  runnerId,
  project: { id: projectId, name: 'api' },
  estimate: { tokens: 50_000, usd: 1.5 },
};

const granted = {
  status: 'granted',
  reservationId,
  reservations: [],
  leftTokens: 900_000,
  leftUsd: 12.5,
  softOverruns: [],
};

describe('BusBudgetGate', () => {
  it('asks budget-service to reserve, with the correlation id and its timeout, and passes the grant on', async () => {
    const bus = new FakeRequests().answer(() => granted);
    const gate = new BusBudgetGate(bus, { timeoutMs: 1234 });

    await expect(gate.reserve(request, ctx)).resolves.toEqual({
      status: 'granted',
      reservationId,
      leftTokens: 900_000,
      leftUsd: 12.5,
      softOverruns: [],
    });
    expect(bus.calls).toEqual([
      {
        service: BUDGET_SERVICE,
        pattern: 'budgets.reserve',
        payload: {
          reservationId,
          runnerId,
          projectId,
          projectName: 'api',
          estimate: { tokens: 50_000, usd: 1.5 },
        },
        options: { timeoutMs: 1234, correlationId: 'c-1' },
      },
    ]);
  });

  it("passes a refusal on with budget-service's message and shortfalls", async () => {
    const shortfall = {
      budgetId: '33333333-3333-4333-8333-333333333333',
      scope: { kind: 'global' },
      enforcement: 'hard',
      period: 'monthly',
      dimension: 'usd',
      limit: 100,
      carryOver: 0,
      used: 99,
      reserved: 0.5,
      left: 0.5,
      requested: 1.5,
      periodEnd: '2026-12-01T00:00:00.000Z',
      message: 'global budget (monthly, usd) is exhausted',
    };
    const bus = new FakeRequests().answer(() => ({
      status: 'refused',
      reservationId,
      refusals: [shortfall],
      message: 'global budget (monthly, usd) is exhausted',
    }));

    await expect(new BusBudgetGate(bus).reserve(request, ctx)).resolves.toEqual({
      status: 'refused',
      refusal: {
        reservationId,
        message: 'global budget (monthly, usd) is exhausted',
        refusals: [shortfall],
      },
    });
  });

  it('asks once more with the same reservation id after a timeout', async () => {
    const bus = new FakeRequests().answer(
      () => {
        throw new BusError(BusErrorCode.RequestTimeout, 'request timed out after 5000 ms');
      },
      () => granted,
    );

    await expect(new BusBudgetGate(bus).reserve(request, ctx)).resolves.toMatchObject({
      status: 'granted',
    });
    expect(bus.calls.map((c) => (c.payload as { reservationId: string }).reservationId)).toEqual([
      reservationId,
      reservationId,
    ]);
  });

  it('is unavailable without a responder, after a second timeout, on a failure or a malformed reply', async () => {
    const timeout = () => {
      throw new BusError(BusErrorCode.RequestTimeout, 'request timed out after 5000 ms');
    };
    const cases: Array<{ answers: Answer[]; reason: string | RegExp }> = [
      {
        answers: [
          () => {
            throw new BusError(BusErrorCode.NoResponder, 'no responder for budget-service');
          },
        ],
        reason: 'no responder for budget-service',
      },
      { answers: [timeout, timeout], reason: 'request timed out after 5000 ms' },
      {
        answers: [
          () => {
            throw new RemoteRequestError(BUDGET_SERVICE, 'budgets.reserve', {
              code: BudgetErrorCode.Internal,
              message: 'boom',
            });
          },
        ],
        reason: 'budget-service failed to handle the request',
      },
      {
        answers: [
          () => {
            throw new RemoteRequestError(BUDGET_SERVICE, 'budgets.reserve', {
              code: BudgetErrorCode.ReservationConflict,
              message: 'reservation reused',
            });
          },
        ],
        reason: /RESERVATION_CONFLICT.*reservation reused/,
      },
      { answers: [() => ({ status: 'maybe' })], reason: 'budget-service sent a malformed reply' },
    ];
    for (const { answers, reason } of cases) {
      const bus = new FakeRequests().answer(...answers);
      const outcome = await new BusBudgetGate(bus).reserve(request, ctx);
      expect(outcome).toEqual({
        status: 'unavailable',
        reason: expect.stringMatching(reason) as string,
      });
      expect(bus.calls).toHaveLength(answers.length);
    }
  });

  it('releases by reservation id and never rejects when it cannot', async () => {
    const bus = new FakeRequests().answer(
      () => ({ released: 2 }),
      () => {
        throw new BusError(BusErrorCode.NoResponder, 'no responder for budget-service');
      },
    );
    const gate = new BusBudgetGate(bus);

    await expect(gate.release(reservationId, ctx)).resolves.toBeUndefined();
    await expect(gate.release(reservationId, ctx)).resolves.toBeUndefined();
    expect(bus.calls.map((c) => [c.pattern, c.payload])).toEqual([
      ['budgets.release', { reservationId }],
      ['budgets.release', { reservationId }],
    ]);
  });
});
