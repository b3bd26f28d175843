import { ApiError } from './api-client.errors';
import { StratavoreApiClient } from './stratavore-api-client';

const removed = {
  removed: {
    id: '33333333-3333-4333-8333-333333333333',
    scope: { kind: 'global' },
    limits: { tokens: 1000, usd: null },
    tokenKinds: ['input', 'output', 'cacheCreation', 'cacheRead'],
    period: 'none',
    timeZone: 'UTC',
    periodAnchor: { weekStartsOn: 1, monthDay: 1, timeOfDay: '00:00' },
    warnThresholds: [],
    rollover: { enabled: false, capTokens: null, capUsd: null },
    enforcement: 'hard',
    periodStart: '2026-11-24T00:00:00.000Z',
    periodEnd: null,
    carryOver: { tokens: 0, usd: 0 },
    used: { tokens: 0, usd: 0 },
    reserved: { tokens: 0, usd: 0 },
    left: { tokens: 1000, usd: null },
    ratio: 0,
    thresholdsFired: [],
    status: 'ok',
    createdAt: '2026-11-24T00:00:00.000Z',
    updatedAt: '2026-11-24T00:00:00.000Z',
  },
};

/** A fetch that answers each call with the next queued answer and records what was asked. */
function fakeFetch(answers: Array<{ status: number; body: unknown }>) {
  const calls: Array<{ method: string; url: string; body: unknown }> = [];
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : input.toString();
    calls.push({
      method: init?.method ?? 'GET',
      url,
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    });
    const next = answers.shift();
    if (!next) return Promise.reject(new Error(`unexpected request ${url}`));
    return Promise.resolve(
      new Response(JSON.stringify(next.body), {
        status: next.status,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return { fetch, calls };
}

describe('StratavoreApiClient budgets', () => {
  it('removes a budget by id or by scope', async () => {
    const fake = fakeFetch([
      { status: 200, body: removed },
      { status: 200, body: removed },
      { status: 200, body: removed },
    ]);
    const client = new StratavoreApiClient({
      baseUrl: 'http://api',
      token: 't',
      fetch: fake.fetch,
    });

    await client.removeBudget('33333333-3333-4333-8333-333333333333');
    await client.removeBudget({ kind: 'global' });
    await client.removeBudget({ kind: 'project', project: 'web app' });

    expect(fake.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'DELETE http://api/api/v1/budgets/33333333-3333-4333-8333-333333333333',
      'DELETE http://api/api/v1/budgets?scope=global',
      'DELETE http://api/api/v1/budgets?project=web+app',
    ]);
  });

  it('sends the usage window as query parameters', async () => {
    const fake = fakeFetch([
      {
        status: 200,
        body: {
          from: '2026-11-17T00:00:00.000Z',
          to: '2026-11-24T00:00:00.000Z',
          timeZone: 'Europe/Berlin',
          budgets: [],
          days: [],
          totals: {
            inputTokens: 0,
            outputTokens: 0,
            cacheCreationTokens: 0,
            cacheReadTokens: 0,
            totalTokens: 0,
            costUsd: 0,
            events: 0,
          },
        },
      },
    ]);
    const client = new StratavoreApiClient({
      baseUrl: 'http://api',
      token: 't',
      fetch: fake.fetch,
    });

    await client.budgetUsage({ project: 'api', days: 3, timeZone: 'Europe/Berlin' });

    expect(fake.calls[0]?.url).toBe(
      'http://api/api/v1/budgets/usage?project=api&days=3&timeZone=Europe%2FBerlin',
    );
  });

  it('keeps the details of a refused launch on the ApiError', async () => {
    const details = { project: 'api', refusals: [{ left: 10 }] };
    const fake = fakeFetch([
      {
        status: 402,
        body: {
          statusCode: 402,
          code: 'BUDGET_EXCEEDED',
          message: 'budget of project api is exhausted',
          details,
          requestId: 'r-1',
        },
      },
    ]);
    const client = new StratavoreApiClient({
      baseUrl: 'http://api',
      token: 't',
      fetch: fake.fetch,
    });

    const error = await client.launchRunner('api', { estimateTokens: 50 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 402, code: 'BUDGET_EXCEEDED', details });
    expect(fake.calls[0]?.body).toEqual({ estimateTokens: 50 });
  });
});
