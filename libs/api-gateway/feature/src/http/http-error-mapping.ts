import {
  BUDGET_SERVICE,
  BudgetErrorCode,
  RunnerErrorCode,
  SESSION_STORE_SERVICE,
  SessionStoreErrorCode,
} from '@stratavore/contracts';
import { BusError, BusErrorCode, RemoteRequestError } from '@stratavore/messaging';

import { type FieldError, GatewayErrorCode, GatewayException } from './gateway.exception';

/** The body of every error answer of the gateway. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  readonly errors?: readonly FieldError[];
  /** Structured detail of some refusals (`BUDGET_EXCEEDED`: the budgets that refused). */
  readonly details?: unknown;
  readonly requestId: string;
}

/** An error answer before the request id is added. */
export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly errors?: readonly FieldError[];
  readonly details?: unknown;
  readonly retryAfterSeconds?: number;
}

export function gatewayErrorStatus(code: GatewayErrorCode): number {
  switch (code) {
    case GatewayErrorCode.ValidationFailed:
    case GatewayErrorCode.BadRequest:
      return 400;
    case GatewayErrorCode.Unauthenticated:
      return 401;
    case GatewayErrorCode.Forbidden:
      return 403;
    case GatewayErrorCode.RouteNotFound:
    case GatewayErrorCode.ApiKeyNotFound:
      return 404;
    case GatewayErrorCode.RateLimited:
      return 429;
    case GatewayErrorCode.Internal:
      return 500;
    case GatewayErrorCode.UpstreamError:
      return 502;
    case GatewayErrorCode.UpstreamUnavailable:
      return 503;
    case GatewayErrorCode.UpstreamTimeout:
      return 504;
  }
}

/**
 * runner-manager's codes. QuotaExceeded is a 409 (the project's state refuses the launch, the
 * same request later may pass), not a 429: 429 is the gateway's own per-key rate limit.
 * Internal is the service's own failure, so a 502 from the gateway's point of view.
 */
export function runnerErrorStatus(code: RunnerErrorCode): number {
  switch (code) {
    case RunnerErrorCode.ValidationFailed:
      return 400;
    case RunnerErrorCode.ProjectNotFound:
    case RunnerErrorCode.RunnerNotFound:
    case RunnerErrorCode.QueuedLaunchNotFound:
    case RunnerErrorCode.RunnerLogUnavailable:
    case RunnerErrorCode.SessionNotFound:
    case RunnerErrorCode.WorktreeNotFound:
      return 404;
    case RunnerErrorCode.ProjectNameTaken:
    case RunnerErrorCode.ProjectArchived:
    case RunnerErrorCode.ProjectHasActiveRunners:
    case RunnerErrorCode.RunnerAlreadyEnded:
    case RunnerErrorCode.QuotaExceeded:
    case RunnerErrorCode.IllegalTransition:
    case RunnerErrorCode.SessionNotResumable:
    case RunnerErrorCode.WorktreeInUse:
    case RunnerErrorCode.WorktreeHasChanges:
    case RunnerErrorCode.WorktreeUnavailable:
      return 409;
    // Payment Required: a spending limit refuses, distinct from the quota (409) and the rate
    // limit (429), so that clients can tell "wait for a slot" from "raise the budget".
    case RunnerErrorCode.BudgetExceeded:
      return 402;
    case RunnerErrorCode.BudgetUnavailable:
    case RunnerErrorCode.SessionStoreUnavailable:
      return 503;
    case RunnerErrorCode.Internal:
      return 502;
  }
}

/** budget-service's codes; Internal is the service's own failure, a 502 from here. */
export function budgetErrorStatus(code: BudgetErrorCode): number {
  switch (code) {
    case BudgetErrorCode.ValidationFailed:
      return 400;
    case BudgetErrorCode.BudgetNotFound:
      return 404;
    case BudgetErrorCode.ReservationConflict:
      return 409;
    case BudgetErrorCode.Internal:
      return 502;
  }
}

const budgetCodes = new Set<string>(Object.values(BudgetErrorCode));

function budgetHttpError(error: RemoteRequestError): HttpError {
  if (!budgetCodes.has(error.code)) {
    return {
      status: gatewayErrorStatus(GatewayErrorCode.UpstreamError),
      code: GatewayErrorCode.UpstreamError,
      message: `${error.service} answered with an unknown error (${error.code})`,
    };
  }
  const code = error.code as BudgetErrorCode;
  const errors =
    code === BudgetErrorCode.ValidationFailed ? remoteFieldErrors(error.details) : undefined;
  return {
    status: budgetErrorStatus(code),
    code,
    message:
      code === BudgetErrorCode.Internal
        ? `${error.service} failed to handle the request`
        : remoteMessage(error),
    ...(errors ? { errors } : {}),
  };
}

/**
 * session-store's codes. The upload codes (401, 403, 413, 415) belong to its own HTTP endpoint
 * and never come over the bus: from the gateway's point of view they would be a broken upstream.
 */
export function sessionStoreErrorStatus(code: SessionStoreErrorCode): number {
  switch (code) {
    case SessionStoreErrorCode.ValidationFailed:
      return 400;
    case SessionStoreErrorCode.SessionNotFound:
    case SessionStoreErrorCode.TranscriptNotFound:
      return 404;
    case SessionStoreErrorCode.Unauthenticated:
    case SessionStoreErrorCode.RunnerNotInSession:
    case SessionStoreErrorCode.TranscriptTooLarge:
    case SessionStoreErrorCode.UnsupportedMediaType:
    case SessionStoreErrorCode.Internal:
      return 502;
  }
}

const sessionStoreCodes = new Set<string>(Object.values(SessionStoreErrorCode));

function sessionStoreHttpError(error: RemoteRequestError): HttpError {
  if (!sessionStoreCodes.has(error.code)) {
    return {
      status: gatewayErrorStatus(GatewayErrorCode.UpstreamError),
      code: GatewayErrorCode.UpstreamError,
      message: `${error.service} answered with an unknown error (${error.code})`,
    };
  }
  const code = error.code as SessionStoreErrorCode;
  const status = sessionStoreErrorStatus(code);
  const errors =
    code === SessionStoreErrorCode.ValidationFailed ? remoteFieldErrors(error.details) : undefined;
  return {
    status,
    code: status === 502 ? GatewayErrorCode.UpstreamError : code,
    message:
      status === 502 ? `${error.service} failed to handle the request` : remoteMessage(error),
    ...(errors ? { errors } : {}),
  };
}

/** Transport failures of the bus: the request never got a usable answer. */
export function busErrorMapping(code: BusErrorCode): GatewayErrorCode {
  switch (code) {
    case BusErrorCode.RequestTimeout:
      return GatewayErrorCode.UpstreamTimeout;
    case BusErrorCode.BadReply:
      return GatewayErrorCode.UpstreamError;
    case BusErrorCode.ConnectFailed:
    case BusErrorCode.NotConnected:
    case BusErrorCode.Closed:
    case BusErrorCode.NoResponder:
    case BusErrorCode.Disconnected:
      return GatewayErrorCode.UpstreamUnavailable;
  }
}

const runnerCodes = new Set<string>(Object.values(RunnerErrorCode));

function isRunnerErrorCode(code: string): code is RunnerErrorCode {
  return runnerCodes.has(code);
}

/** The remote handler's own message, without the `service pattern failed: [CODE]` frame. */
function remoteMessage(error: RemoteRequestError): string {
  const frame = `${error.service} ${error.pattern} failed: [${error.code}] `;
  return error.message.startsWith(frame) ? error.message.slice(frame.length) : error.message;
}

function remoteFieldErrors(details: unknown): FieldError[] | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const issues = (details as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return undefined;
  const errors = issues.flatMap((issue: unknown): FieldError[] => {
    if (typeof issue !== 'object' || issue === null) return [];
    const { field, message } = issue as { field?: unknown; message?: unknown };
    return typeof field === 'string' && typeof message === 'string' ? [{ field, message }] : [];
  });
  return errors.length > 0 ? errors : undefined;
}

/** Anything a handler threw, as the answer the client gets. Unknown errors never leak details. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof GatewayException) {
    return {
      status: gatewayErrorStatus(error.code),
      code: error.code,
      message: error.message,
      ...(error.errors && error.errors.length > 0 ? { errors: error.errors } : {}),
      ...(error.retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  if (error instanceof RemoteRequestError && error.service === SESSION_STORE_SERVICE) {
    return sessionStoreHttpError(error);
  }
  if (error instanceof RemoteRequestError && error.service === BUDGET_SERVICE) {
    return budgetHttpError(error);
  }
  if (error instanceof RemoteRequestError) {
    if (!isRunnerErrorCode(error.code)) {
      return {
        status: gatewayErrorStatus(GatewayErrorCode.UpstreamError),
        code: GatewayErrorCode.UpstreamError,
        message: `${error.service} answered with an unknown error (${error.code})`,
      };
    }
    const errors =
      error.code === RunnerErrorCode.ValidationFailed
        ? remoteFieldErrors(error.details)
        : undefined;
    return {
      status: runnerErrorStatus(error.code),
      code: error.code,
      message:
        error.code === RunnerErrorCode.Internal
          ? `${error.service} failed to handle the request`
          : remoteMessage(error),
      ...(errors ? { errors } : {}),
      ...(error.code === RunnerErrorCode.BudgetExceeded && error.details !== undefined
        ? { details: error.details }
        : {}),
    };
  }
  if (error instanceof BusError) {
    const code = busErrorMapping(error.code);
    return { status: gatewayErrorStatus(code), code, message: error.message };
  }
  return {
    status: gatewayErrorStatus(GatewayErrorCode.Internal),
    code: GatewayErrorCode.Internal,
    message: 'internal error',
  };
}
