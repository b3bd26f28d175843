import { randomUUID } from 'node:crypto';

import { type LaunchRunnerReply, RunnerErrorCode, type RunnerReply } from '@stratavore/contracts';

import {
  runnerReplyFixture,
  SUITE_PROJECT_ID as PROJECT_ID,
  useGatewaySuite,
} from '../gateway-suite.test-support';
import { type ApiErrorBody } from '../http/http-error-mapping';

function runner(overrides: Partial<RunnerReply> = {}): RunnerReply {
  return runnerReplyFixture({
    command: ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--resume', 's-1'],
    prompt: 'continue',
    agentPid: 4100,
    resumedFrom: 's-1',
    ...overrides,
  });
}

describe('POST /api/v1/sessions/:id/resume', () => {
  const suite = useGatewaySuite('gateway_session_resume');

  function resume<T = ApiErrorBody>(id: string, body: unknown, key: string = suite.operator) {
    return suite.call<T>('POST', `/api/v1/sessions/${id}/resume`, key, body);
  }

  it('asks runner-manager to resume the session and answers 201 with the runner', async () => {
    const launched: LaunchRunnerReply = { status: 'launched', runner: runner() };
    suite.gateway.runnerManager.expect('runners.resume', () => launched);

    const response = await resume<LaunchRunnerReply>('s-1', {
      prompt: 'now the tests',
      model: 'sonnet',
      maxTurns: 5,
      restart: 'on-failure',
      maxRestarts: 2,
    });

    expect(response).toEqual({ status: 201, json: launched });
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      {
        session: 's-1',
        prompt: 'now the tests',
        model: 'sonnet',
        maxTurns: 5,
        restart: 'on-failure',
        maxRestarts: 2,
        queue: false,
      },
    ]);
  });

  it('answers 202 with the queue entry when the project is full and queue is set', async () => {
    suite.gateway.runnerManager.expect('runners.resume', () => ({
      status: 'queued',
      queuedLaunch: {
        id: randomUUID(),
        project: { id: PROJECT_ID, name: 'web' },
        position: 2,
        mode: 'headless',
        command: ['claude', '-p', '--resume', 's-2'],
        prompt: 'continue',
        createdAt: '2026-11-24T10:00:00.000Z',
        resumedFrom: 's-2',
      },
    }));
    const response = await resume<LaunchRunnerReply>('s-2', { queue: true });
    expect([response.status, response.json.status]).toEqual([202, 'queued']);
  });

  it('refuses bad fields at the edge, naming each, without asking runner-manager', async () => {
    const response = await resume('s-1', {
      maxTurns: 0,
      permissionMode: 'yolo',
      allowedTools: ['Read,Write'],
      command: ['bash'],
    });
    expect(response.status).toBe(400);
    expect(response.json.errors?.map((e) => e.field).sort()).toEqual([
      '(body)',
      'allowedTools.0',
      'maxTurns',
      'permissionMode',
    ]);
    expect(suite.gateway.runnerManager.received).toEqual([]);
  });

  it('needs the operator scope', async () => {
    const response = await resume('s-1', {}, suite.viewer);
    expect(response.status).toBe(403);
  });

  it.each([
    [RunnerErrorCode.SessionNotFound, 404],
    [RunnerErrorCode.SessionNotResumable, 409],
    [RunnerErrorCode.SessionStoreUnavailable, 503],
  ])('maps %s to %i with runner-manager message', async (code, status) => {
    suite.gateway.runnerManager.expect('runners.resume', () => {
      throw Object.assign(new Error(`session s-9: ${code}`), { code });
    });
    const response = await resume('s-9', {});
    expect([response.status, response.json.code, response.json.message]).toEqual([
      status,
      code,
      `session s-9: ${code}`,
    ]);
  });
});
