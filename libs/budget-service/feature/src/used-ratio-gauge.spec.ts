import { Logger } from '@nestjs/common';
import {
  type BudgetReads,
  type BudgetUnitOfWork,
  type BudgetWithOpenPeriod,
} from '@stratavore/budget-service-data-access';
import {
  type Budget,
  type BudgetPeriodState,
  usdToMicros,
  ZERO_USAGE,
} from '@stratavore/budget-service-domain';
import { ManualClock } from '@stratavore/core';
import { Gauge, Registry } from 'prom-client';

import {
  currentUsedRatio,
  storeUsedRatios,
  UsedRatioGauge,
  type UsedRatioSample,
  type UsedRatioSource,
} from './used-ratio-gauge';

const DEADLINE_MS = 50;

/** A fresh registry whose `stratavore_budget_used_ratio` collects through `usedRatios`. */
function scrapeTarget(usedRatios: UsedRatioGauge) {
  const registry = new Registry();
  const gauge = new Gauge<'budget_id' | 'scope'>({
    name: 'stratavore_budget_used_ratio',
    help: 'test',
    labelNames: ['budget_id', 'scope'],
    registers: [registry],
    collect() {
      return usedRatios.collect(this);
    },
  });
  return {
    registry,
    async values(): Promise<Record<string, number>> {
      const { values } = await gauge.get();
      return Object.fromEntries(
        values.map((v) => [`${v.labels.budget_id}|${v.labels.scope}`, v.value]),
      );
    },
  };
}

/** A source answering with what `answers` yields next, one per scrape. */
function scriptedSource(
  ...answers: Array<readonly UsedRatioSample[] | Error | 'never'>
): UsedRatioSource {
  return {
    usedRatios: () => {
      const answer = answers.shift();
      if (answer === undefined) throw new Error('unexpected scrape');
      if (answer === 'never') return new Promise(() => undefined);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

const sample = (budgetId: string, ratio: number, scope = 'global'): UsedRatioSample => ({
  budgetId,
  scope,
  ratio,
});

describe('UsedRatioGauge', () => {
  let warnings: jest.SpyInstance;

  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    warnings.mockRestore();
  });

  it('reports what the tracked sources read at each scrape, and nothing of a removed budget', async () => {
    const usedRatios = new UsedRatioGauge(DEADLINE_MS);
    const target = scrapeTarget(usedRatios);
    usedRatios.track(
      scriptedSource([sample('a', 0.25), sample('b', 1.5, 'project:p')], [sample('a', 0.5)]),
    );

    await expect(target.values()).resolves.toEqual({ 'a|global': 0.25, 'b|project:p': 1.5 });
    await expect(target.values()).resolves.toEqual({ 'a|global': 0.5 });
    expect(warnings).not.toHaveBeenCalled();
  });

  it('stops reading a source once untracked', async () => {
    const usedRatios = new UsedRatioGauge(DEADLINE_MS);
    const target = scrapeTarget(usedRatios);
    const untrack = usedRatios.track(scriptedSource([sample('a', 0.25)]));
    await expect(target.values()).resolves.toEqual({ 'a|global': 0.25 });

    untrack();
    // The scripted source throws on a second scrape: it must not be asked.
    await expect(target.values()).resolves.toEqual({});
  });

  it('keeps the last samples of a failing source, logs, and still serves the registry', async () => {
    const usedRatios = new UsedRatioGauge(DEADLINE_MS);
    const target = scrapeTarget(usedRatios);
    usedRatios.track(
      scriptedSource([sample('a', 0.25)], new Error('connect ECONNREFUSED'), [sample('a', 0.75)]),
    );
    usedRatios.track(scriptedSource([sample('c', 0.1)], [sample('c', 0.2)], [sample('c', 0.3)]));
    await expect(target.values()).resolves.toEqual({ 'a|global': 0.25, 'c|global': 0.1 });

    await expect(target.registry.metrics()).resolves.toContain(
      'stratavore_budget_used_ratio{budget_id="a",scope="global"} 0.25',
    );
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('connect ECONNREFUSED'));
    await expect(target.values()).resolves.toEqual({ 'a|global': 0.75, 'c|global': 0.3 });
  });

  it('keeps the last samples of a source that does not answer before the deadline', async () => {
    const usedRatios = new UsedRatioGauge(DEADLINE_MS);
    const target = scrapeTarget(usedRatios);
    usedRatios.track(scriptedSource([sample('a', 0.25)], 'never'));
    await expect(target.values()).resolves.toEqual({ 'a|global': 0.25 });

    await expect(target.values()).resolves.toEqual({ 'a|global': 0.25 });
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining(`no answer within ${DEADLINE_MS} ms`),
    );
  });

  it('reports nothing of a source that has never answered', async () => {
    const usedRatios = new UsedRatioGauge(DEADLINE_MS);
    const target = scrapeTarget(usedRatios);
    usedRatios.track(scriptedSource(new Error('database is starting up')));

    await expect(target.values()).resolves.toEqual({});
  });
});

const budget: Budget = {
  id: 'b',
  scope: { kind: 'global' },
  limits: { tokens: 1000, usdMicros: usdToMicros(4) },
  tokenKinds: ['input', 'output'],
  period: 'daily',
  timeZone: 'UTC',
  anchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
  warnThresholds: [],
  rollover: { enabled: true, capTokens: null, capUsdMicros: null },
  enforcement: 'hard',
  createdAt: new Date('2026-09-01T00:00:00.000Z'),
  updatedAt: new Date('2026-09-01T00:00:00.000Z'),
};
const period = (overrides: Partial<BudgetPeriodState>): BudgetPeriodState => ({
  id: 'p',
  budgetId: 'b',
  start: new Date('2026-09-01T00:00:00.000Z'),
  end: new Date('2026-09-02T00:00:00.000Z'),
  limits: budget.limits,
  carryOver: { tokens: 0, usdMicros: 0 },
  used: ZERO_USAGE,
  ...overrides,
});
const during = new Date('2026-09-01T12:00:00.000Z');

describe('currentUsedRatio', () => {
  it('is used / (limit + carry-over), the larger of the dimensions, counting the budget kinds', () => {
    const used = { ...ZERO_USAGE, input: 200, output: 100, cacheRead: 5000, usdMicros: 0 };
    expect(currentUsedRatio(budget, period({ used }), during)).toBe(0.3);
    const costly = { ...used, usdMicros: usdToMicros(2) };
    expect(currentUsedRatio(budget, period({ used: costly }), during)).toBe(0.5);
    const carried = period({ used, carryOver: { tokens: 500, usdMicros: 0 } });
    expect(currentUsedRatio(budget, carried, during)).toBe(0.2);
  });

  it('is 0 once the period has ended and is not rolled yet (nothing used in the next one)', () => {
    const used = { ...ZERO_USAGE, input: 900, usdMicros: 0 };
    expect(currentUsedRatio(budget, period({ used }), new Date('2026-09-02T00:00:00.000Z'))).toBe(
      0,
    );
    const unending = period({ used, end: null });
    expect(currentUsedRatio(budget, unending, new Date('2030-01-01T00:00:00.000Z'))).toBe(0.9);
  });
});

describe('storeUsedRatios', () => {
  /** A store that can only answer `budgetsWithOpenPeriods`, counting its queries. */
  function storeOf(rows: BudgetWithOpenPeriod[]) {
    let queries = 0;
    const reads: Pick<BudgetReads, 'budgetsWithOpenPeriods'> = {
      budgetsWithOpenPeriods: () => {
        queries++;
        return Promise.resolve(rows);
      },
    };
    const store: BudgetUnitOfWork = {
      read: (work) => work(reads as BudgetReads),
      transaction: () => Promise.reject(new Error('unexpected transaction')),
    };
    return { store, queries: () => queries };
  }

  it('reads every budget with its open period in one query per scrape', async () => {
    const project: Budget = { ...budget, id: 'q', scope: { kind: 'project', projectId: 'x' } };
    const used = { ...ZERO_USAGE, input: 250, usdMicros: 0 };
    const { store, queries } = storeOf([
      { budget, period: period({ used }) },
      { budget: project, period: period({ id: 'pq', budgetId: 'q' }) },
      // Without an open period (the book recreates one at its next change): no ratio.
      { budget: { ...budget, id: 'r', scope: { kind: 'project', projectId: 'y' } }, period: null },
    ]);
    const source = storeUsedRatios(store, new ManualClock(during.toISOString()));

    await expect(source.usedRatios()).resolves.toEqual([
      { budgetId: 'b', scope: 'global', ratio: 0.25 },
      { budgetId: 'q', scope: 'project:x', ratio: 0 },
    ]);
    expect(queries()).toBe(1);
    await source.usedRatios();
    expect(queries()).toBe(2);
  });
});
