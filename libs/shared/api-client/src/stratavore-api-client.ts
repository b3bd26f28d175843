import {
  type HeartbeatAnswer,
  heartbeatAnswerSchema,
  type HeartbeatRequest,
} from '@stratavore/contracts';

import { type FetchFunction, requestJson } from './json-request';

/** The one call the agent makes. */
export interface HeartbeatClient {
  /**
   * Reports the runner's state.
   *
   * @throws NetworkError when heartbeat-ingest could not be reached or did not answer in time.
   * @throws ApiError for any other answer than `200` (`401`, `403`, `409`, `400`, `5xx`).
   */
  sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer>;
}

export interface StratavoreApiClientOptions {
  /** Base URL of heartbeat-ingest, the gateway or the daemon. */
  readonly baseUrl: string;
  /** Bearer token: the runner token for the agent. */
  readonly token: string;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchFunction;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Typed HTTP client for the Stratavore API, shared by the agent and the CLI. */
export class StratavoreApiClient implements HeartbeatClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: StratavoreApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return requestJson({
      baseUrl: this.options.baseUrl,
      method: 'POST',
      path: '/api/v1/heartbeat',
      token: this.options.token,
      body,
      schema: heartbeatAnswerSchema,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
  }
}
