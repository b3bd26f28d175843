/** Transport-level failures of the bus (not the remote handler's own errors). */
export enum BusErrorCode {
  ConnectFailed = 'CONNECT_FAILED',
  NotConnected = 'NOT_CONNECTED',
  Closed = 'CLOSED',
  RequestTimeout = 'REQUEST_TIMEOUT',
  NoResponder = 'NO_RESPONDER',
  Disconnected = 'DISCONNECTED',
  BadReply = 'BAD_REPLY',
}

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusError';
  }
}

/** The structured error a responder sends back when its handler throws. */
export interface RemoteErrorPayload {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** Re-thrown on the caller when the remote handler failed; keeps the remote `code`. */
export class RemoteRequestError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(
    readonly service: string,
    readonly pattern: string,
    payload: RemoteErrorPayload,
  ) {
    super(`${service} ${pattern} failed: [${payload.code}] ${payload.message}`);
    this.name = 'RemoteRequestError';
    this.code = payload.code;
    this.details = payload.details;
  }
}

/** Turns anything a handler threw into the wire form; a string `code` and `details` survive. */
export function toRemoteErrorPayload(error: unknown): RemoteErrorPayload {
  if (error instanceof Error) {
    const { code, details } = error as Error & { code?: unknown; details?: unknown };
    return {
      code: typeof code === 'string' && code.length > 0 ? code : 'INTERNAL',
      message: error.message,
      ...(details === undefined ? {} : { details: jsonSafe(details) }),
    };
  }
  // Nest's RpcException({ code, message, details }) surfaces as that plain object.
  if (typeof error === 'object' && error !== null) {
    const { code, message, details } = error as {
      code?: unknown;
      message?: unknown;
      details?: unknown;
    };
    return {
      code: typeof code === 'string' && code.length > 0 ? code : 'INTERNAL',
      message: typeof message === 'string' ? message : 'handler failed',
      ...(details === undefined ? {} : { details: jsonSafe(details) }),
    };
  }
  return { code: 'INTERNAL', message: typeof error === 'string' ? error : 'handler failed' };
}

function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}

/** `amqp://user:secret@host` -> `amqp://user:***@host`, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
