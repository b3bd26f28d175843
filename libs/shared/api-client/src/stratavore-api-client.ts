import {
  type CancelQueuedReply,
  cancelQueuedReplySchema,
  type EnvEntryInput,
  type HeartbeatAnswer,
  heartbeatAnswerSchema,
  type HeartbeatRequest,
  type LaunchRunnerReply,
  type ProjectListReply,
  type ProjectReply,
  projectReplySchema,
  type RunnerListReply,
  type RunnerReply,
  runnerReplySchema,
  type RunnersStatusReply,
  runnersStatusReplySchema,
  type runnerStateSchema,
} from '@stratavore/contracts';
import { type z } from 'zod';

/** A runner state as the API names it. */
export type RunnerState = z.output<typeof runnerStateSchema>;

import { NetworkError } from './api-client.errors';
import {
  type GatewayEvent,
  launchAnswerSchema,
  projectListAnswerSchema,
  runnerListAnswerSchema,
} from './gateway-schemas';
import {
  errorFromAnswer,
  type FetchFunction,
  type JsonRequest,
  requestJson,
  resolveUrl,
} from './json-request';
import { readServerSentEvents } from './server-sent-events';

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
  /** Bearer token: the runner token for the agent, the API key for the CLI. */
  readonly token: string;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchFunction;
}

/** Body of `POST /api/v1/projects`; defaults as in the contract apply to omitted fields. */
export interface CreateProjectInput {
  readonly name: string;
  readonly path: string;
  readonly description?: string;
  readonly command?: readonly string[];
  readonly maxRunners?: number;
  readonly env?: readonly EnvEntryInput[];
}

/** Body of `PATCH /api/v1/projects/:name`: only the fields to change; `env` replaces the list. */
export interface UpdateProjectInput {
  readonly name?: string;
  readonly path?: string;
  readonly description?: string;
  readonly command?: readonly string[];
  readonly maxRunners?: number;
  readonly env?: readonly EnvEntryInput[];
}

/** Body of `POST /api/v1/projects/:name/runners`. */
export interface LaunchRunnerInput {
  readonly prompt?: string;
  readonly command?: readonly string[];
  readonly mode?: 'headless' | 'interactive';
  readonly queue?: boolean;
}

export interface ListRunnersFilter {
  readonly project?: string;
  /** Sent comma-separated as `state`. */
  readonly states?: readonly RunnerState[];
}

export interface StreamEventsOptions {
  /** Only these event types (`runner.running`, ...); all when omitted. */
  readonly types?: readonly string[];
  /** Ends the stream (the iterator then finishes without an error). */
  readonly signal?: AbortSignal;
  /** Resume after this event id (`Last-Event-ID`). */
  readonly lastEventId?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const API = '/api/v1';

/** Typed HTTP client for the Stratavore API, shared by the agent and the CLI. */
export class StratavoreApiClient implements HeartbeatClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: StratavoreApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer> {
    return this.request({
      method: 'POST',
      path: `${API}/heartbeat`,
      body,
      schema: heartbeatAnswerSchema,
    });
  }

  /** `GET /api/v1/status`: active runners and queues per project. Also proves the key works. */
  getStatus(): Promise<RunnersStatusReply> {
    return this.request({ method: 'GET', path: `${API}/status`, schema: runnersStatusReplySchema });
  }

  createProject(input: CreateProjectInput): Promise<ProjectReply> {
    return this.request({
      method: 'POST',
      path: `${API}/projects`,
      body: input,
      schema: projectReplySchema,
    });
  }

  listProjects(options: { includeArchived?: boolean } = {}): Promise<ProjectListReply> {
    return this.request({
      method: 'GET',
      path: `${API}/projects`,
      query: { includeArchived: options.includeArchived ? 'true' : undefined },
      schema: projectListAnswerSchema,
    });
  }

  getProject(name: string): Promise<ProjectReply> {
    return this.request({ method: 'GET', path: projectPath(name), schema: projectReplySchema });
  }

  updateProject(name: string, input: UpdateProjectInput): Promise<ProjectReply> {
    return this.request({
      method: 'PATCH',
      path: projectPath(name),
      body: input,
      schema: projectReplySchema,
    });
  }

  archiveProject(name: string): Promise<ProjectReply> {
    return this.request({
      method: 'POST',
      path: `${projectPath(name)}/archive`,
      schema: projectReplySchema,
    });
  }

  /** `201` launched or `202` queued (with `queue: true` on a full project). */
  launchRunner(project: string, input: LaunchRunnerInput = {}): Promise<LaunchRunnerReply> {
    return this.request({
      method: 'POST',
      path: `${projectPath(project)}/runners`,
      body: input,
      schema: launchAnswerSchema,
    });
  }

  listRunners(filter: ListRunnersFilter = {}): Promise<RunnerListReply> {
    return this.request({
      method: 'GET',
      path: `${API}/runners`,
      query: {
        project: filter.project,
        state: filter.states && filter.states.length > 0 ? filter.states.join(',') : undefined,
      },
      schema: runnerListAnswerSchema,
    });
  }

  getRunner(id: string): Promise<RunnerReply> {
    return this.request({ method: 'GET', path: runnerPath(id), schema: runnerReplySchema });
  }

  /** Asks the runner to stop (SIGTERM) or, with `force`, to be killed (SIGKILL). */
  stopRunner(id: string, options: { force?: boolean } = {}): Promise<RunnerReply> {
    return this.request({
      method: 'POST',
      path: `${runnerPath(id)}/stop`,
      body: { force: options.force ?? false },
      schema: runnerReplySchema,
    });
  }

  /** Cancels a queued launch by its id. */
  cancelQueuedLaunch(id: string): Promise<CancelQueuedReply> {
    return this.request({
      method: 'DELETE',
      path: `${runnerPath(id)}/queue`,
      schema: cancelQueuedReplySchema,
    });
  }

  /**
   * `GET /api/v1/events` as an async iterator. The data of each event is parsed as JSON when it
   * is JSON. Aborting `signal` ends the iteration quietly; the stream ending ends it too.
   *
   * @throws ApiError when the server refuses the subscription.
   * @throws NetworkError when the server cannot be reached or the connection breaks.
   */
  async *streamEvents(options: StreamEventsOptions = {}): AsyncGenerator<GatewayEvent> {
    const url = resolveUrl(this.options.baseUrl, `${API}/events`, {
      types: options.types && options.types.length > 0 ? options.types.join(',') : undefined,
    });
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${this.options.token}`,
    };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const doFetch = this.options.fetch ?? fetch;
    const signal = options.signal;

    let response: Response;
    try {
      response = await doFetch(url, { method: 'GET', headers, signal });
    } catch (error) {
      if (signal?.aborted) return;
      throw new NetworkError('unreachable', url, { cause: error });
    }
    if (!response.ok) throw errorFromAnswer(response.status, await response.text());
    if (response.body === null) return;

    try {
      for await (const event of readServerSentEvents(response.body)) {
        yield { id: event.id, type: event.type, data: parseData(event.data) };
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw new NetworkError('unreachable', url, { cause: error });
    }
  }

  private request<T>(
    request: Pick<JsonRequest<T>, 'method' | 'path' | 'query' | 'body'> & {
      schema: z.ZodType<T, unknown>;
    },
  ): Promise<T> {
    return requestJson<T>({
      ...request,
      schema: request.schema,
      baseUrl: this.options.baseUrl,
      token: this.options.token,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
  }
}

function projectPath(name: string): string {
  return `${API}/projects/${encodeURIComponent(name)}`;
}

function runnerPath(id: string): string {
  return `${API}/runners/${encodeURIComponent(id)}`;
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}
