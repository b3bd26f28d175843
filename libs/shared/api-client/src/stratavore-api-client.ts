import {
  type AttachRunnerReply,
  attachRunnerReplySchema,
  type BudgetListReply,
  budgetListReplySchema,
  type BudgetView,
  budgetViewSchema,
  type CancelQueuedReply,
  cancelQueuedReplySchema,
  type CheckBudgetReply,
  checkBudgetReplySchema,
  type ClaudePermissionMode,
  type EnvEntryInput,
  type HeartbeatAnswer,
  heartbeatAnswerSchema,
  type HeartbeatRequest,
  type LaunchRunnerReply,
  type ProjectListReply,
  type ProjectReply,
  projectReplySchema,
  type RemoveBudgetReply,
  removeBudgetReplySchema,
  type RemoveWorktreeReply,
  removeWorktreeReplySchema,
  type RestartPolicy,
  type RunnerListReply,
  type RunnerLogsReply,
  runnerLogsReplySchema,
  type RunnerReply,
  runnerReplySchema,
  type RunnersStatsView,
  runnersStatsViewSchema,
  type RunnersStatusReply,
  runnersStatusReplySchema,
  type runnerStateSchema,
  type SessionDetailView,
  sessionDetailViewSchema,
  type SessionListView,
  sessionListViewSchema,
  type SetBudgetReply,
  setBudgetReplySchema,
  type SetBudgetRequestInput,
  type TranscriptMetadata,
  type TranscriptWindowReply,
  transcriptWindowReplySchema,
  type UsageGrouping,
  type UsageSummaryReply,
  usageSummaryReplySchema,
  type UsageView,
  usageViewSchema,
  type WorktreeListReply,
  worktreeListReplySchema,
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
import { type HeartbeatClient } from './heartbeat/heartbeat-client';
import {
  errorFromAnswer,
  type FetchFunction,
  type JsonRequest,
  requestJson,
  resolveUrl,
} from './json-request';
import { readServerSentEvents } from './server-sent-events';
import { type TranscriptBody, uploadTranscript } from './transcript-upload';

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
  /** Default launch estimate reserved in the project's budgets. */
  readonly estimateTokens?: number | null;
  readonly estimateUsd?: number | null;
}

/** Body of `PATCH /api/v1/projects/:name`: only the fields to change; `env` replaces the list. */
export interface UpdateProjectInput {
  readonly name?: string;
  readonly path?: string;
  readonly description?: string;
  readonly command?: readonly string[];
  readonly maxRunners?: number;
  readonly env?: readonly EnvEntryInput[];
  /** `null` clears the default launch estimate. */
  readonly estimateTokens?: number | null;
  readonly estimateUsd?: number | null;
}

/** Body of `POST /api/v1/projects/:name/runners`. */
export interface LaunchRunnerInput {
  readonly prompt?: string;
  readonly command?: readonly string[];
  readonly mode?: 'headless' | 'interactive';
  readonly queue?: boolean;
  /** Overrides the project's default launch estimate for this launch. */
  readonly estimateTokens?: number;
  readonly estimateUsd?: number;
  /** Claude Code only, headless (docs/claude-code.md, "Launching Claude Code"). */
  readonly model?: string;
  readonly maxTurns?: number;
  readonly allowedTools?: readonly string[];
  readonly permissionMode?: ClaudePermissionMode;
  /** `on-failure`: launch a replacement when it fails, at most `maxRestarts` times. */
  readonly restart?: RestartPolicy;
  readonly maxRestarts?: number;
  /** Work in a git worktree of its own, on branch `stratavore/<runner id>` (docs/worktrees.md). */
  readonly worktree?: boolean;
}

/** Body of `POST /api/v1/projects/:name/runners/attach` (`stratavore run`). */
export interface AttachRunnerInput {
  /** What runs in the terminal; default the project's command. */
  readonly command?: readonly string[];
  /** Absolute; default the project's path. */
  readonly cwd?: string;
  /** The machine the agent runs on. */
  readonly host: string;
  readonly estimateTokens?: number;
  readonly estimateUsd?: number;
}

/** Body of `POST /api/v1/sessions/:id/resume`. */
export type ResumeSessionInput = Omit<LaunchRunnerInput, 'command' | 'mode' | 'worktree'>;

/** Query of `GET /api/v1/worktrees`. */
export interface ListWorktreesFilter {
  /** Project name or id. */
  readonly project?: string;
  /** Also the worktrees already removed. */
  readonly includeRemoved?: boolean;
}

/** A budget's scope over HTTP: the project by name or id. */
export type BudgetScopeInput =
  { readonly kind: 'global' } | { readonly kind: 'project'; readonly project: string };

/** Body of `PUT /api/v1/budgets`: the whole configuration (fields left out take defaults). */
export type SetBudgetInput = Omit<SetBudgetRequestInput, 'scope'> & {
  readonly scope: BudgetScopeInput;
};

/** Query of `GET /api/v1/budgets/usage`. */
export interface BudgetUsageQuery {
  /** Project name or id; all projects when omitted. */
  readonly project?: string;
  /** ISO 8601 instants; default the last `days` days up to now. */
  readonly from?: string;
  readonly to?: string;
  readonly days?: number;
  /** IANA zone days are cut in (default UTC). */
  readonly timeZone?: string;
}

export interface ListRunnersFilter {
  readonly project?: string;
  /** Sent comma-separated as `state`. */
  readonly states?: readonly RunnerState[];
  /** Runners in the page (1-500); the gateway's default is 50. */
  readonly limit?: number;
  /** The previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** Query of `GET /api/v1/runners/:id/logs`. */
export interface RunnerLogsQuery {
  /** Byte offset to read from (a follower passes the last reply's `nextOffset`). Default 0. */
  readonly offset?: number;
  /** Bytes to read at most (1 B..1 MiB, default 64 KiB). */
  readonly limit?: number;
  /** First read only: start at the last `tail` lines instead of at `offset`. */
  readonly tail?: number;
}

/** Query of `GET /api/v1/sessions`. */
export interface ListSessionsFilter {
  /** Project name or id. */
  readonly project?: string;
  /** Only sessions this runner took part in. */
  readonly runner?: string;
  /** Only sessions active at or after this instant (ISO 8601). */
  readonly since?: string;
  /** 1..500, default 50. */
  readonly limit?: number;
}

/** Query of `GET /api/v1/sessions/:id/transcript`. */
export interface TranscriptQuery {
  /** `main` (default) or `subagent-<agentId>`. */
  readonly kind?: string;
  /** Byte offset to read from (go on from the last reply's `nextOffset`). Default 0. */
  readonly offset?: number;
  /** Bytes to read at most (1 B..1 MiB, default 256 KiB). */
  readonly limit?: number;
}

/** A range of days (UTC, `YYYY-MM-DD`, both included) and an optional project. */
export interface StatsQuery {
  readonly from?: string;
  readonly to?: string;
  /** Project name or id. */
  readonly project?: string;
}

/** Query of `GET /api/v1/usage`. */
export interface UsageQuery extends StatsQuery {
  readonly by: UsageGrouping;
}

/** Transcript uploads may be large: they get their own timeout. */
const TRANSCRIPT_UPLOAD_TIMEOUT_MS = 120_000;

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

  /**
   * `201`: a runner registered for an agent the caller starts itself in a terminal (`stratavore
   * run`), with its token (shown once) and heartbeat URL. Never queued: a full project is a 409.
   */
  attachRunner(project: string, input: AttachRunnerInput): Promise<AttachRunnerReply> {
    return this.request({
      method: 'POST',
      path: `${projectPath(project)}/runners/attach`,
      body: input,
      schema: attachRunnerReplySchema,
    });
  }

  /**
   * `POST /api/v1/sessions/:id/resume`: a runner on `claude --resume <id> -p ...` in the
   * session's project and directory; `201` launched or `202` queued.
   */
  resumeSession(sessionId: string, input: ResumeSessionInput = {}): Promise<LaunchRunnerReply> {
    return this.request({
      method: 'POST',
      path: `${API}/sessions/${encodeURIComponent(sessionId)}/resume`,
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
        limit: filter.limit === undefined ? undefined : String(filter.limit),
        cursor: filter.cursor,
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

  /**
   * A window of the runner's log: whole UTF-8 characters from `offset` (or the last `tail`
   * lines). Read on from `nextOffset`; `ended` says the runner ended and all was read.
   */
  runnerLogs(id: string, query: RunnerLogsQuery = {}): Promise<RunnerLogsReply> {
    const text = (value: number | undefined) => (value === undefined ? undefined : String(value));
    return this.request({
      method: 'GET',
      path: `${runnerPath(id)}/logs`,
      query: { offset: text(query.offset), limit: text(query.limit), tail: text(query.tail) },
      schema: runnerLogsReplySchema,
    });
  }

  /** `GET /api/v1/budgets`: every budget, or those covering `project` (name or id). */
  listBudgets(filter: { project?: string } = {}): Promise<BudgetListReply> {
    return this.request({
      method: 'GET',
      path: `${API}/budgets`,
      query: { project: filter.project },
      schema: budgetListReplySchema,
    });
  }

  getBudget(id: string): Promise<BudgetView> {
    return this.request({ method: 'GET', path: budgetPath(id), schema: budgetViewSchema });
  }

  /** Creates the scope's budget or replaces its whole configuration. */
  setBudget(input: SetBudgetInput): Promise<SetBudgetReply> {
    return this.request({
      method: 'PUT',
      path: `${API}/budgets`,
      body: input,
      schema: setBudgetReplySchema,
    });
  }

  /** Removes a budget by id, or by scope (`{ kind: 'global' }`, `{ kind: 'project', project }`). */
  removeBudget(target: string | BudgetScopeInput): Promise<RemoveBudgetReply> {
    if (typeof target === 'string') {
      return this.request({
        method: 'DELETE',
        path: budgetPath(target),
        schema: removeBudgetReplySchema,
      });
    }
    return this.request({
      method: 'DELETE',
      path: `${API}/budgets`,
      query: target.kind === 'global' ? { scope: 'global' } : { project: target.project },
      schema: removeBudgetReplySchema,
    });
  }

  /** Would a launch in `project` be admitted now (its default estimate unless given)? */
  checkBudget(input: {
    project: string;
    estimateTokens?: number;
    estimateUsd?: number;
  }): Promise<CheckBudgetReply> {
    return this.request({
      method: 'POST',
      path: `${API}/budgets/check`,
      body: input,
      schema: checkBudgetReplySchema,
    });
  }

  /** Budget consumption: budgets with their current periods, usage per project and day. */
  budgetUsage(query: BudgetUsageQuery = {}): Promise<UsageSummaryReply> {
    return this.request({
      method: 'GET',
      path: `${API}/budgets/usage`,
      query: {
        project: query.project,
        from: query.from,
        to: query.to,
        days: query.days === undefined ? undefined : String(query.days),
        timeZone: query.timeZone,
      },
      schema: usageSummaryReplySchema,
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
   * `GET /api/v1/worktrees`: the git worktrees made for runners, with their runner's state and
   * git status.
   */
  listWorktrees(filter: ListWorktreesFilter = {}): Promise<WorktreeListReply> {
    return this.request({
      method: 'GET',
      path: `${API}/worktrees`,
      query: {
        project: filter.project,
        includeRemoved: filter.includeRemoved ? 'true' : undefined,
      },
      schema: worktreeListReplySchema,
    });
  }

  /**
   * `DELETE /api/v1/worktrees/:runnerId`: removes the worktree made for the runner and its
   * branch; `force` also when it has uncommitted changes or unmerged commits.
   */
  removeWorktree(
    runnerId: string,
    options: { force?: boolean } = {},
  ): Promise<RemoveWorktreeReply> {
    return this.request({
      method: 'DELETE',
      path: `${API}/worktrees/${encodeURIComponent(runnerId)}`,
      query: { force: options.force ? 'true' : undefined },
      schema: removeWorktreeReplySchema,
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

  /** `GET /api/v1/sessions`: Claude Code sessions, newest activity first. */
  listSessions(filter: ListSessionsFilter = {}): Promise<SessionListView> {
    return this.request({
      method: 'GET',
      path: `${API}/sessions`,
      query: {
        project: filter.project,
        runner: filter.runner,
        since: filter.since,
        limit: filter.limit === undefined ? undefined : String(filter.limit),
      },
      schema: sessionListViewSchema,
    });
  }

  /** A session with its runs, tokens by model and kind, cost, result and transcripts. */
  getSession(id: string): Promise<SessionDetailView> {
    return this.request({ method: 'GET', path: sessionPath(id), schema: sessionDetailViewSchema });
  }

  /** A window of a stored transcript; read on from `nextOffset` until `eof`. */
  sessionTranscript(id: string, query: TranscriptQuery = {}): Promise<TranscriptWindowReply> {
    const text = (value: number | undefined) => (value === undefined ? undefined : String(value));
    return this.request({
      method: 'GET',
      path: `${sessionPath(id)}/transcript`,
      query: { kind: query.kind, offset: text(query.offset), limit: text(query.limit) },
      schema: transcriptWindowReplySchema,
    });
  }

  /** `GET /api/v1/usage`: tokens by kind and cost, grouped by project, model or day. */
  getUsage(query: UsageQuery): Promise<UsageView> {
    return this.request({
      method: 'GET',
      path: `${API}/usage`,
      query: { by: query.by, from: query.from, to: query.to, project: query.project },
      schema: usageViewSchema,
    });
  }

  /** `GET /api/v1/stats/runners`: success rate and durations per project. */
  runnerStats(query: StatsQuery = {}): Promise<RunnersStatsView> {
    return this.request({
      method: 'GET',
      path: `${API}/stats/runners`,
      query: { from: query.from, to: query.to, project: query.project },
      schema: runnersStatsViewSchema,
    });
  }

  /**
   * Uploads (or replaces) a session's transcript with the runner token this client was made
   * with; the base URL is session-store's (the daemon's in single-node mode). `kind` is `main`
   * or `subagent-<agentId>`; an async iterable body is streamed.
   */
  uploadTranscript(
    sessionId: string,
    kind: string,
    body: TranscriptBody,
    options: { timeoutMs?: number } = {},
  ): Promise<TranscriptMetadata> {
    return uploadTranscript({
      baseUrl: this.options.baseUrl,
      token: this.options.token,
      sessionId,
      kind,
      body,
      timeoutMs: options.timeoutMs ?? TRANSCRIPT_UPLOAD_TIMEOUT_MS,
      fetch: this.options.fetch,
    });
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

function budgetPath(id: string): string {
  return `${API}/budgets/${encodeURIComponent(id)}`;
}

function sessionPath(id: string): string {
  return `${API}/sessions/${encodeURIComponent(id)}`;
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
