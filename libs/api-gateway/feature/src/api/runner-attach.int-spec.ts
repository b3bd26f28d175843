import { type AttachRunnerReply, RunnerErrorCode } from '@stratavore/contracts';

import { runnerReplyFixture, useGatewaySuite } from '../gateway-suite.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

function attached(): AttachRunnerReply {
  const runner = runnerReplyFixture({
    mode: 'interactive',
    command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
    host: 'laptop',
    attached: true,
    activity: null,
  });
  return {
    runner,
    token: 'runner-token-in-clear',
    heartbeatUrl: 'http://127.0.0.1:7414',
    heartbeatIntervalMs: 10_000,
  };
}

describe('POST /api/v1/projects/:name/runners/attach', () => {
  const suite = useGatewaySuite('gateway_runner_attach');

  function attach<T = ApiErrorBody>(name: string, body: unknown, key: string = suite.operator) {
    return suite.call<T>('POST', `/api/v1/projects/${name}/runners/attach`, key, body);
  }

  it('registers the runner through runner-manager and answers 201 with its token', async () => {
    const reply = attached();
    suite.gateway.runnerManager.expect('runners.attach', () => reply);

    const response = await attach<AttachRunnerReply>('web', {
      command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
      cwd: '/srv/web',
      host: 'laptop',
      estimateTokens: 1000,
    });

    expect(response).toEqual({ status: 201, json: reply });
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      {
        project: 'web',
        command: ['claude', '--session-id', '7d0c2a8e-3b4f-4d6a-9e1c-5f2b8a7c6d40'],
        cwd: '/srv/web',
        host: 'laptop',
        estimateTokens: 1000,
      },
    ]);
  });

  it('refuses bad fields at the edge, naming each, without asking runner-manager', async () => {
    const response = await attach('web', { cwd: 'relative', command: [], queue: true });
    expect(response.status).toBe(400);
    expect(response.json.errors?.map((e) => e.field).sort()).toEqual([
      '(body)',
      'command',
      'cwd',
      'host',
    ]);
    expect(suite.gateway.runnerManager.received).toEqual([]);
  });

  it('needs the operator scope', async () => {
    expect((await attach('web', { host: 'laptop' }, suite.viewer)).status).toBe(403);
  });

  it('answers a full project 409 QUOTA_EXCEEDED (an attach is never queued)', async () => {
    suite.gateway.runnerManager.expect('runners.attach', () => {
      throw Object.assign(
        new Error('project web allows 1 concurrent runner; held by r1 (waiting)'),
        {
          code: RunnerErrorCode.QuotaExceeded,
        },
      );
    });
    const response = await attach('web', { host: 'laptop' });
    expect([response.status, response.json.code]).toEqual([409, RunnerErrorCode.QuotaExceeded]);
  });
});
