import { RunnerErrorCode } from '@stratavore/contracts';
import { BusError, BusErrorCode, RemoteRequestError } from '@stratavore/messaging';

import { GatewayErrorCode, GatewayException } from './gateway.exception';
import {
  busErrorMapping,
  gatewayErrorStatus,
  runnerErrorStatus,
  toHttpError,
} from './http-error-mapping';

function remote(code: string, message: string, details?: unknown) {
  return new RemoteRequestError('runner-manager', 'runners.launch', { code, message, details });
}

describe('HTTP error mapping', () => {
  it('maps every gateway code to an HTTP status', () => {
    const expected: Record<GatewayErrorCode, number> = {
      [GatewayErrorCode.ValidationFailed]: 400,
      [GatewayErrorCode.BadRequest]: 400,
      [GatewayErrorCode.Unauthenticated]: 401,
      [GatewayErrorCode.Forbidden]: 403,
      [GatewayErrorCode.RouteNotFound]: 404,
      [GatewayErrorCode.ApiKeyNotFound]: 404,
      [GatewayErrorCode.RateLimited]: 429,
      [GatewayErrorCode.Internal]: 500,
      [GatewayErrorCode.UpstreamError]: 502,
      [GatewayErrorCode.UpstreamUnavailable]: 503,
      [GatewayErrorCode.UpstreamTimeout]: 504,
    };
    for (const code of Object.values(GatewayErrorCode)) {
      expect([code, gatewayErrorStatus(code)]).toEqual([code, expected[code]]);
    }
  });

  it('maps every runner-manager code to an HTTP status, never a 500', () => {
    const expected: Record<RunnerErrorCode, number> = {
      [RunnerErrorCode.ValidationFailed]: 400,
      [RunnerErrorCode.ProjectNotFound]: 404,
      [RunnerErrorCode.RunnerNotFound]: 404,
      [RunnerErrorCode.QueuedLaunchNotFound]: 404,
      [RunnerErrorCode.RunnerLogUnavailable]: 404,
      [RunnerErrorCode.ProjectNameTaken]: 409,
      [RunnerErrorCode.ProjectArchived]: 409,
      [RunnerErrorCode.ProjectHasActiveRunners]: 409,
      [RunnerErrorCode.RunnerAlreadyEnded]: 409,
      [RunnerErrorCode.QuotaExceeded]: 409,
      [RunnerErrorCode.IllegalTransition]: 409,
      [RunnerErrorCode.BudgetExceeded]: 402,
      [RunnerErrorCode.BudgetUnavailable]: 503,
      [RunnerErrorCode.SessionNotFound]: 404,
      [RunnerErrorCode.SessionNotResumable]: 409,
      [RunnerErrorCode.SessionStoreUnavailable]: 503,
      [RunnerErrorCode.WorktreeNotFound]: 404,
      [RunnerErrorCode.WorktreeInUse]: 409,
      [RunnerErrorCode.WorktreeHasChanges]: 409,
      [RunnerErrorCode.WorktreeUnavailable]: 409,
      [RunnerErrorCode.Internal]: 502,
    };
    for (const code of Object.values(RunnerErrorCode)) {
      expect([code, runnerErrorStatus(code)]).toEqual([code, expected[code]]);
    }
  });

  it('maps every bus failure: a timeout is a 504, no responder a 503, a bad reply a 502', () => {
    const expected: Record<BusErrorCode, GatewayErrorCode> = {
      [BusErrorCode.RequestTimeout]: GatewayErrorCode.UpstreamTimeout,
      [BusErrorCode.BadReply]: GatewayErrorCode.UpstreamError,
      [BusErrorCode.ConnectFailed]: GatewayErrorCode.UpstreamUnavailable,
      [BusErrorCode.NotConnected]: GatewayErrorCode.UpstreamUnavailable,
      [BusErrorCode.Closed]: GatewayErrorCode.UpstreamUnavailable,
      [BusErrorCode.NoResponder]: GatewayErrorCode.UpstreamUnavailable,
      [BusErrorCode.Disconnected]: GatewayErrorCode.UpstreamUnavailable,
    };
    for (const code of Object.values(BusErrorCode)) {
      expect([code, busErrorMapping(code)]).toEqual([code, expected[code]]);
    }
    expect(toHttpError(new BusError(BusErrorCode.RequestTimeout, 'timed out'))).toMatchObject({
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
    });
  });

  it('keeps the remote code and its own message', () => {
    const message = 'project p allows 2 concurrent runners; held by r1 (running), r2 (starting)';
    expect(toHttpError(remote(RunnerErrorCode.QuotaExceeded, message))).toEqual({
      status: 409,
      code: 'QUOTA_EXCEEDED',
      message,
    });
  });

  it('turns remote field issues into errors', () => {
    const error = remote(RunnerErrorCode.ValidationFailed, 'invalid payload', {
      issues: [{ field: 'maxRunners', message: 'expected an integer' }, { bogus: true }],
    });
    expect(toHttpError(error)).toMatchObject({
      status: 400,
      errors: [{ field: 'maxRunners', message: 'expected an integer' }],
    });
  });

  it('answers 502 for an unknown remote code and hides remote internals', () => {
    expect(toHttpError(remote('SOMETHING_NEW', 'x'))).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
    });
    expect(
      toHttpError(remote(RunnerErrorCode.Internal, 'pg: connection refused at 10.0.0.3')),
    ).toEqual({
      status: 502,
      code: 'INTERNAL',
      message: 'runner-manager failed to handle the request',
    });
  });

  it('passes gateway exceptions through and hides anything else', () => {
    const exception = new GatewayException(GatewayErrorCode.RateLimited, 'slow down', undefined, {
      retryAfterSeconds: 7,
    });
    expect(toHttpError(exception)).toEqual({
      status: 429,
      code: 'RATE_LIMITED',
      message: 'slow down',
      retryAfterSeconds: 7,
    });
    expect(toHttpError(new TypeError('secret detail'))).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'internal error',
    });
  });
});
