import { buildEnvelope } from '../build-envelope';
import { stratavoreEvents } from '../catalog';
import { budgetServiceReplySchemas } from './budget-service.replies';
import {
  budgetServicePatterns,
  budgetServiceRequestSchemas,
  releaseBudgetRequestSchema,
  reserveBudgetRequestSchema,
  setBudgetRequestSchema,
  usageSummaryRequestSchema,
} from './budget-service.requests';

const projectId = '22222222-2222-4222-8222-222222222222';
const runnerId = '11111111-1111-4111-8111-111111111111';
const budgetId = '33333333-3333-4333-8333-333333333333';

function fields(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  return (result.error?.issues ?? []).map((issue) => issue.path.map(String).join('.'));
}

describe('budget-service request contracts', () => {
  it('declares a request and a reply schema for every pattern', () => {
    for (const pattern of budgetServicePatterns) {
      expect(budgetServiceRequestSchemas[pattern]).toBeDefined();
      expect(budgetServiceReplySchemas[pattern]).toBeDefined();
    }
  });

  it('fills the defaults of budgets.set', () => {
    const parsed = setBudgetRequestSchema.parse({
      scope: { kind: 'global' },
      limitTokens: 1_000_000,
      period: 'daily',
    });
    expect(parsed).toEqual({
      scope: { kind: 'global' },
      limitTokens: 1_000_000,
      tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
      period: 'daily',
      timeZone: 'UTC',
      warnThresholds: [0.5, 0.8, 0.95],
      rollover: { enabled: false },
      enforcement: 'hard',
    });
  });

  it('needs a limit, and names the fields it refuses', () => {
    const none = setBudgetRequestSchema.safeParse({ scope: { kind: 'global' }, period: 'daily' });
    expect(fields(none)).toEqual(['limitTokens']);
    const bad = setBudgetRequestSchema.safeParse({
      scope: { kind: 'project', projectId: 'nope' },
      limitUsd: -1,
      period: 'hourly',
      timeZone: 'Mars/Olympus',
      warnThresholds: [0.5, 1],
      tokenKinds: ['input', 'input'],
    });
    expect(fields(bad).sort()).toEqual(
      [
        'limitUsd',
        'period',
        'scope.projectId',
        'timeZone',
        'tokenKinds',
        'warnThresholds.1',
      ].sort(),
    );
  });

  it('normalises the time zone and sorts the thresholds', () => {
    const parsed = setBudgetRequestSchema.parse({
      scope: { kind: 'project', projectId },
      limitUsd: 25,
      period: 'weekly',
      timeZone: 'utc',
      warnThresholds: [0.9, 0.25],
      periodAnchor: { weekStartsOn: 7, timeOfDay: '06:30' },
    });
    expect(parsed.timeZone).toBe('UTC');
    expect(parsed.warnThresholds).toEqual([0.25, 0.9]);
  });

  it('refuses startsAt mixed with calendar anchor fields', () => {
    const mixed = setBudgetRequestSchema.safeParse({
      scope: { kind: 'global' },
      limitTokens: 10,
      period: 'monthly',
      periodAnchor: { startsAt: '2026-01-15T00:00:00Z', monthDay: 3 },
    });
    expect(fields(mixed)).toEqual(['periodAnchor.startsAt']);
  });

  it('defaults the reservation estimate and ttl, and bounds the ttl', () => {
    const parsed = reserveBudgetRequestSchema.parse({
      reservationId: budgetId,
      runnerId,
      projectId,
    });
    expect(parsed.estimate).toEqual({ tokens: 0, usd: 0 });
    expect(parsed.ttlMs).toBe(3_600_000);
    expect(
      fields(
        reserveBudgetRequestSchema.safeParse({
          reservationId: budgetId,
          runnerId,
          projectId,
          ttlMs: 5,
        }),
      ),
    ).toEqual(['ttlMs']);
  });

  it('releases by exactly one of reservation or runner', () => {
    expect(releaseBudgetRequestSchema.safeParse({ runnerId }).success).toBe(true);
    expect(fields(releaseBudgetRequestSchema.safeParse({}))).toEqual(['reservationId']);
    expect(
      fields(releaseBudgetRequestSchema.safeParse({ runnerId, reservationId: budgetId })),
    ).toEqual(['reservationId']);
  });

  it('wants from before to in usage.summary', () => {
    const backwards = usageSummaryRequestSchema.safeParse({
      from: '2026-02-02T00:00:00Z',
      to: '2026-02-01T00:00:00Z',
    });
    expect(fields(backwards)).toEqual(['from']);
  });
});

describe('budget events v2', () => {
  const deps = {
    clock: { now: () => new Date('2026-03-01T00:00:00.000Z') },
    ids: { uuid: () => '00000000-0000-4000-8000-000000000001' },
    signingKey: 'k',
  };

  it('carries a USD-only hard budget exceeded in a project scope', () => {
    const envelope = buildEnvelope(
      {
        type: 'budget.exceeded',
        version: 2,
        source: 'budget-service',
        subject: budgetId,
        correlationId: 'c',
        data: {
          budgetId,
          scope: { kind: 'project', projectId },
          projectId,
          period: 'none',
          periodStart: '2026-02-01T00:00:00.000Z',
          periodEnd: null,
          enforcement: 'hard',
          limitTokens: null,
          limitUsd: 10,
          usedTokens: 5,
          usedUsd: 10.5,
          reservedTokens: 0,
          reservedUsd: 0,
          ratio: 1.05,
          message: 'over',
          exceededOn: ['usd'],
        },
      },
      deps,
    );
    expect(envelope.dataversion).toBe(2);
    expect(stratavoreEvents.has('budget.exceeded', 1)).toBe(true);
  });
});

describe('budget.overrun v1', () => {
  const overrun = {
    budgetId,
    scope: { kind: 'global' },
    period: 'daily',
    periodStart: '2026-03-01T00:00:00.000Z',
    periodEnd: '2026-03-02T00:00:00.000Z',
    enforcement: 'hard',
    limitTokens: 1000,
    limitUsd: null,
    usedTokens: 1200,
    usedUsd: 0,
    reservedTokens: 0,
    reservedUsd: 0,
    ratio: 1.2,
    message: 'over',
    runnerId,
    runnerProjectId: projectId,
    exceededOn: ['tokens'],
  };

  it("names the runner and its project beside the budget's state", () => {
    expect(stratavoreEvents.parse('budget.overrun', 1, overrun)).toEqual(overrun);
  });

  it('is about hard budgets and a runner only, naming the fields that are wrong', () => {
    expect(() =>
      stratavoreEvents.parse('budget.overrun', 1, { ...overrun, enforcement: 'soft' }),
    ).toThrow(/data\.enforcement/);
    const { runnerId: _runner, ...withoutRunner } = overrun;
    expect(() => stratavoreEvents.parse('budget.overrun', 1, withoutRunner)).toThrow(
      /data\.runnerId/,
    );
    expect(() =>
      stratavoreEvents.parse('budget.overrun', 1, { ...overrun, exceededOn: [] }),
    ).toThrow(/data\.exceededOn/);
  });
});
