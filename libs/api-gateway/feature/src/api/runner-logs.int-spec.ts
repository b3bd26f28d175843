import { randomUUID } from 'node:crypto';

import { RunnerErrorCode, type RunnerLogsReply } from '@stratavore/contracts';

import { useGatewaySuite } from '../gateway-suite.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

function logsReply(overrides: Partial<RunnerLogsReply> = {}): RunnerLogsReply {
  return {
    content: 'hello\n',
    offset: 0,
    nextOffset: 6,
    size: 6,
    runnerState: 'running',
    ended: false,
    ...overrides,
  };
}

describe('GET /api/v1/runners/:id/logs', () => {
  const suite = useGatewaySuite('gateway_runner_logs');

  function call<T = ApiErrorBody>(path: string, key: string | null = suite.viewer) {
    return suite.call<T>('GET', path, key);
  }

  it('asks runner-manager for the window with defaults and answers its reply to a viewer key', async () => {
    const id = randomUUID();
    const reply = logsReply({ content: 'h\u00e9\n', nextOffset: 4, size: 4 });
    suite.gateway.runnerManager.expect('runners.logs', () => reply);

    const response = await call<RunnerLogsReply>(`/api/v1/runners/${id}/logs`);

    expect(response).toEqual({ status: 200, json: reply });
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { runner: id, offset: 0, limitBytes: 65_536 },
    ]);
  });

  it('passes offset, limit (as limitBytes) and tail', async () => {
    const id = randomUUID();
    suite.gateway.runnerManager
      .expect('runners.logs', () => logsReply({ offset: 4096, nextOffset: 4102, size: 4102 }))
      .expect('runners.logs', () => logsReply({ runnerState: 'completed', ended: true }));

    expect((await call(`/api/v1/runners/${id}/logs?offset=4096&limit=1024`)).status).toBe(200);
    const tailed = await call<RunnerLogsReply>(`/api/v1/runners/${id}/logs?tail=20`);

    expect(tailed.json.ended).toBe(true);
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { runner: id, offset: 4096, limitBytes: 1024 },
      { runner: id, offset: 0, limitBytes: 65_536, tail: 20 },
    ]);
  });

  it('answers 400 naming the query field, without asking runner-manager', async () => {
    const base = `/api/v1/runners/${randomUUID()}/logs`;
    const fields = async (query: string) => {
      const response = await call(`${base}?${query}`);
      expect(response.status).toBe(400);
      expect(response.json.code).toBe('VALIDATION_FAILED');
      return response.json.errors?.map((e) => e.field);
    };

    expect(await fields('offset=-1')).toEqual(['offset']);
    expect(await fields('limit=0')).toEqual(['limit']);
    expect(await fields(`limit=${2 * 1024 * 1024}`)).toEqual(['limit']);
    expect(await fields('limit=lots')).toEqual(['limit']);
    expect(await fields('tail=1.5')).toEqual(['tail']);
    expect(await fields('tail=3&offset=10')).toEqual(['tail']);
    expect(
      (await call('/api/v1/runners/not-a-uuid/logs')).json.errors?.map((e) => e.field),
    ).toEqual(['runner']);
  });

  it('maps an unknown runner and an unreachable log to 404 with their codes', async () => {
    suite.gateway.runnerManager
      .expect('runners.logs', () => {
        throw Object.assign(new Error('runner r not found'), {
          code: RunnerErrorCode.RunnerNotFound,
        });
      })
      .expect('runners.logs', () => {
        throw Object.assign(new Error('the log of runner r is on host b'), {
          code: RunnerErrorCode.RunnerLogUnavailable,
        });
      });

    const missing = await call(`/api/v1/runners/${randomUUID()}/logs`);
    const elsewhere = await call(`/api/v1/runners/${randomUUID()}/logs`);

    expect([missing.status, missing.json.code]).toEqual([404, 'RUNNER_NOT_FOUND']);
    expect([elsewhere.status, elsewhere.json.code]).toEqual([404, 'RUNNER_LOG_UNAVAILABLE']);
    expect(elsewhere.json.message).toContain('on host b');
  });

  it('needs a key, and is documented in the OpenAPI document', async () => {
    expect((await call(`/api/v1/runners/${randomUUID()}/logs`, null)).status).toBe(401);
    const document = await call<{ paths: Record<string, { get?: { parameters: unknown[] } }> }>(
      '/docs-json',
      null,
    );
    const route = document.json.paths['/api/v1/runners/{id}/logs']?.get;
    expect(route?.parameters.map((p) => (p as { name: string }).name)).toEqual([
      'id',
      'offset',
      'limit',
      'tail',
    ]);
  });
});
