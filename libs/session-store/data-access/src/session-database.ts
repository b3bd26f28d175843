import {
  type EventEnvelope,
  type SessionModelUsage,
  type SessionResult,
  type TranscriptKind,
  type UsageGrouping,
} from '@stratavore/contracts';
import { Inbox, type InboxResult, OutboxWriter } from '@stratavore/messaging';
import { createDataSource, runMigrations, withTransaction } from '@stratavore/persistence';
import { type DataSource, type EntityManager } from 'typeorm';

import { SessionSchema1764500000000 } from './migrations/1764500000000-session-schema.migration';
import {
  type DailyUsage,
  type RunnerOutcomeAggregate,
  type RunRecord,
  type SessionListEntry,
  type SessionRecord,
  type SessionWrites,
  type TokenCounts,
  type TokenOwner,
  type TranscriptRecord,
  type UsageAggregate,
} from './session-database.types';
import { SESSION_SCHEMA } from './session-schema';

/** Migrations of the `session` schema, oldest first. */
export const sessionMigrations = [SessionSchema1764500000000];

export interface SessionDatabaseOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
}

/** A DataSource (not initialized) on schema `session` with its migrations; never synchronizes. */
export function sessionDataSource(url: string, options: SessionDatabaseOptions = {}): DataSource {
  return createDataSource({
    url,
    schema: SESSION_SCHEMA,
    migrations: sessionMigrations,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'session-store',
  });
}

type Row = Record<string, unknown>;

const str = (value: unknown): string => value as string;
const strOrNull = (value: unknown): string | null => (value === null ? null : (value as string));
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null ? null : Number(value));
const date = (value: unknown): Date => value as Date;
const dateOrNull = (value: unknown): Date | null => (value === null ? null : (value as Date));

function tokensOf(row: Row): TokenCounts {
  return {
    input: num(row.input_tokens),
    output: num(row.output_tokens),
    cacheCreation5m: num(row.cache_creation_5m_tokens),
    cacheCreation1h: num(row.cache_creation_1h_tokens),
    cacheRead: num(row.cache_read_tokens),
    webSearchRequests: num(row.web_search_requests),
  };
}

function resultOf(row: Row): SessionResult | null {
  if (row.result_subtype === null) return null;
  const resumeAt = dateOrNull(row.result_resume_at);
  return {
    subtype: str(row.result_subtype),
    isError: row.result_is_error === true,
    resumable: row.result_resumable === true,
    resumeAt: resumeAt === null ? null : resumeAt.toISOString(),
  };
}

function resultParams(result: SessionResult | null): unknown[] {
  return [
    result?.subtype ?? null,
    result?.isError ?? null,
    result?.resumable ?? null,
    result?.resumeAt ?? null,
  ];
}

function modelsOf(value: unknown): Record<string, SessionModelUsage> {
  return (value ?? {}) as Record<string, SessionModelUsage>;
}

function toSession(row: Row): SessionRecord {
  return {
    id: str(row.id),
    projectId: str(row.project_id),
    firstRunnerId: str(row.first_runner_id),
    cwd: strOrNull(row.cwd),
    models: modelsOf(row.models),
    tokens: tokensOf(row),
    turns: num(row.turns),
    costUsd: numOrNull(row.cost_usd),
    reportedCostUsd: numOrNull(row.reported_cost_usd),
    result: resultOf(row),
    resumedFrom: strOrNull(row.resumed_from),
    waitingForInput: row.waiting_for_input === true,
    startedAt: date(row.started_at),
    lastSeenAt: date(row.last_seen_at),
    endedAt: dateOrNull(row.ended_at),
  };
}

function toRun(row: Row): RunRecord {
  return {
    sessionId: str(row.session_id),
    runnerId: str(row.runner_id),
    projectId: str(row.project_id),
    seq: num(row.seq),
    firstSeenAt: date(row.first_seen_at),
    observedAt: date(row.observed_at),
    models: modelsOf(row.models),
    turns: num(row.turns),
    costUsd: numOrNull(row.cost_usd),
    reportedCostUsd: numOrNull(row.reported_cost_usd),
    cwd: strOrNull(row.cwd),
    transcriptPath: strOrNull(row.transcript_path),
    resumedFrom: strOrNull(row.resumed_from),
    waitingForInput: row.waiting_for_input === true,
    result: resultOf(row),
  };
}

function toTranscript(row: Row): TranscriptRecord {
  return {
    sessionId: str(row.session_id),
    kind: str(row.kind) as TranscriptKind,
    agentId: row.agent_id === '' ? null : str(row.agent_id),
    blobKey: str(row.blob_key),
    size: num(row.size),
    lineCount: num(row.line_count),
    sha256: str(row.sha256),
    uploadedAt: date(row.uploaded_at),
    uploadedBy: str(row.uploaded_by),
  };
}

const RUNS_ORDER = 'ORDER BY first_seen_at, runner_id';

const SESSION_WRITE_COLUMNS = `project_id, first_runner_id, cwd, models, started_at, last_seen_at,
  ended_at, turns, input_tokens, output_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
  cache_read_tokens, web_search_requests, cost_usd, reported_cost_usd, result_subtype,
  result_is_error, result_resumable, result_resume_at, resumed_from, waiting_for_input`;

function sessionParams(s: SessionRecord): unknown[] {
  return [
    s.id,
    s.projectId,
    s.firstRunnerId,
    s.cwd,
    JSON.stringify(s.models),
    s.startedAt,
    s.lastSeenAt,
    s.endedAt,
    s.turns,
    s.tokens.input,
    s.tokens.output,
    s.tokens.cacheCreation5m,
    s.tokens.cacheCreation1h,
    s.tokens.cacheRead,
    s.tokens.webSearchRequests,
    s.costUsd,
    s.reportedCostUsd,
    ...resultParams(s.result),
    s.resumedFrom,
    s.waitingForInput,
  ];
}

const SESSION_PLACEHOLDERS = Array.from({ length: 23 }, (_, i) => `$${i + 1}`).join(', ');

function writesOn(manager: EntityManager, outbox: OutboxWriter): SessionWrites {
  return {
    async registerRunner(r) {
      await manager.query(
        `INSERT INTO session.runners (runner_id, project_id, token_hash, launched_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (runner_id) DO UPDATE SET
           token_hash = COALESCE(runners.token_hash, EXCLUDED.token_hash),
           launched_at = COALESCE(runners.launched_at, EXCLUDED.launched_at)`,
        [r.runnerId, r.projectId, r.tokenHash, r.launchedAt],
      );
    },
    async markRunnerStarted(r) {
      await manager.query(
        `INSERT INTO session.runners (runner_id, project_id, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (runner_id) DO UPDATE SET
           started_at = COALESCE(runners.started_at, EXCLUDED.started_at)`,
        [r.runnerId, r.projectId, r.at],
      );
    },
    async markRunnerEnded(r) {
      // The first terminal event wins: runner-manager emits one per runner.
      await manager.query(
        `INSERT INTO session.runners
           (runner_id, project_id, ended_at, state, failure_reason, exit_code)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (runner_id) DO UPDATE SET
           ended_at = EXCLUDED.ended_at, state = EXCLUDED.state,
           failure_reason = EXCLUDED.failure_reason, exit_code = EXCLUDED.exit_code
         WHERE runners.state = 'active'`,
        [r.runnerId, r.projectId, r.endedAt, r.state, r.failureReason, r.exitCode],
      );
    },
    async endedRunners(runnerIds) {
      if (runnerIds.length === 0) return new Set();
      const rows = await manager.query<Row[]>(
        `SELECT runner_id FROM session.runners
         WHERE runner_id = ANY($1::uuid[]) AND state <> 'active'`,
        [runnerIds],
      );
      return new Set(rows.map((row) => str(row.runner_id)));
    },
    async sessionIdsOfRunner(runnerId) {
      const rows = await manager.query<Row[]>(
        `SELECT session_id FROM session.session_runs WHERE runner_id = $1 ORDER BY session_id`,
        [runnerId],
      );
      return rows.map((row) => str(row.session_id));
    },
    async lockSession(sessionId) {
      const rows = await manager.query<Row[]>(
        `SELECT * FROM session.sessions WHERE id = $1 FOR UPDATE`,
        [sessionId],
      );
      if (!rows[0]) return null;
      const runs = await manager.query<Row[]>(
        `SELECT * FROM session.session_runs WHERE session_id = $1 ${RUNS_ORDER}`,
        [sessionId],
      );
      return { session: toSession(rows[0]), runs: runs.map(toRun) };
    },
    async insertSession(session) {
      const rows = await manager.query<unknown[]>(
        `INSERT INTO session.sessions (id, ${SESSION_WRITE_COLUMNS})
         VALUES (${SESSION_PLACEHOLDERS})
         ON CONFLICT (id) DO NOTHING RETURNING 1`,
        sessionParams(session),
      );
      return rows.length > 0;
    },
    async saveSession(session) {
      await manager.query(
        `UPDATE session.sessions SET (${SESSION_WRITE_COLUMNS}) =
           (${SESSION_PLACEHOLDERS.split(', ').slice(1).join(', ')})
         WHERE id = $1`,
        sessionParams(session),
      );
    },
    async saveRun(run) {
      await manager.query(
        `INSERT INTO session.session_runs (session_id, runner_id, project_id, seq, first_seen_at,
           observed_at, models, turns, cost_usd, reported_cost_usd, cwd, transcript_path,
           resumed_from, waiting_for_input, result_subtype, result_is_error, result_resumable,
           result_resume_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (session_id, runner_id) DO UPDATE SET
           seq = EXCLUDED.seq, observed_at = EXCLUDED.observed_at, models = EXCLUDED.models,
           turns = EXCLUDED.turns, cost_usd = EXCLUDED.cost_usd,
           reported_cost_usd = EXCLUDED.reported_cost_usd, cwd = EXCLUDED.cwd,
           transcript_path = EXCLUDED.transcript_path, resumed_from = EXCLUDED.resumed_from,
           waiting_for_input = EXCLUDED.waiting_for_input,
           result_subtype = EXCLUDED.result_subtype, result_is_error = EXCLUDED.result_is_error,
           result_resumable = EXCLUDED.result_resumable,
           result_resume_at = EXCLUDED.result_resume_at`,
        [
          run.sessionId,
          run.runnerId,
          run.projectId,
          run.seq,
          run.firstSeenAt,
          run.observedAt,
          JSON.stringify(run.models),
          run.turns,
          run.costUsd,
          run.reportedCostUsd,
          run.cwd,
          run.transcriptPath,
          run.resumedFrom,
          run.waitingForInput,
          ...resultParams(run.result),
        ],
      );
    },
    async addDailyUsage(rows: readonly DailyUsage[]) {
      if (rows.length === 0) return;
      await manager.query(
        `INSERT INTO session.usage_daily AS u (day, project_id, model, input_tokens,
           output_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
           web_search_requests, cost_usd)
         SELECT * FROM unnest($1::date[], $2::uuid[], $3::text[], $4::bigint[], $5::bigint[],
           $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::numeric[])
         ON CONFLICT (day, project_id, model) DO UPDATE SET
           input_tokens = u.input_tokens + EXCLUDED.input_tokens,
           output_tokens = u.output_tokens + EXCLUDED.output_tokens,
           cache_creation_5m_tokens = u.cache_creation_5m_tokens + EXCLUDED.cache_creation_5m_tokens,
           cache_creation_1h_tokens = u.cache_creation_1h_tokens + EXCLUDED.cache_creation_1h_tokens,
           cache_read_tokens = u.cache_read_tokens + EXCLUDED.cache_read_tokens,
           web_search_requests = u.web_search_requests + EXCLUDED.web_search_requests,
           cost_usd = u.cost_usd + EXCLUDED.cost_usd`,
        [
          rows.map((r) => r.day),
          rows.map((r) => r.projectId),
          rows.map((r) => r.model),
          rows.map((r) => r.tokens.input),
          rows.map((r) => r.tokens.output),
          rows.map((r) => r.tokens.cacheCreation5m),
          rows.map((r) => r.tokens.cacheCreation1h),
          rows.map((r) => r.tokens.cacheRead),
          rows.map((r) => r.tokens.webSearchRequests),
          rows.map((r) => r.costUsd),
        ],
      );
    },
    appendEvents(events: readonly EventEnvelope[]) {
      return outbox.append(manager, events);
    },
  };
}

export interface SessionFilter {
  readonly projectId?: string;
  readonly runnerId?: string;
  readonly since?: Date;
  readonly limit: number;
}

const GROUP_KEY: Readonly<Record<UsageGrouping, string>> = {
  project: 'project_id::text',
  model: 'model',
  day: `to_char(day, 'YYYY-MM-DD')`,
};

/**
 * session-store's storage: sessions and their runs, transcript metadata, its runner registry
 * and the daily usage ledger. Consumers write through {@link runOnce} (inbox, outbox and state
 * in one transaction); queries read outside transactions.
 */
export class SessionDatabase {
  private readonly inbox = new Inbox();
  private readonly outbox = new OutboxWriter();

  private constructor(private readonly dataSource: DataSource) {}

  /** Opens the pool and migrates the `session` schema under the migration lock. */
  static async open(url: string, options: SessionDatabaseOptions = {}): Promise<SessionDatabase> {
    const dataSource = sessionDataSource(url, options);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return new SessionDatabase(dataSource);
  }

  /**
   * Runs `work` once per (consumer, event id): the inbox row, the state and the events it
   * appends commit together, so a redelivered event changes nothing.
   */
  runOnce(
    consumer: string,
    eventId: string,
    work: (writes: SessionWrites) => Promise<void>,
  ): Promise<InboxResult> {
    return this.inbox.runOnce(this.dataSource, consumer, eventId, (manager) =>
      work(writesOn(manager, this.outbox)),
    );
  }

  async listSessions(filter: SessionFilter): Promise<SessionListEntry[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT s.*, ARRAY(SELECT r.runner_id::text FROM session.session_runs r
                         WHERE r.session_id = s.id ${RUNS_ORDER}) AS runner_ids
       FROM session.sessions s
       WHERE ($1::uuid IS NULL OR s.project_id = $1)
         AND ($2::uuid IS NULL OR EXISTS (
               SELECT 1 FROM session.session_runs r WHERE r.session_id = s.id AND r.runner_id = $2))
         AND ($3::timestamptz IS NULL OR s.last_seen_at >= $3)
       ORDER BY s.last_seen_at DESC, s.id
       LIMIT $4`,
      [filter.projectId ?? null, filter.runnerId ?? null, filter.since ?? null, filter.limit],
    );
    return rows.map((row) => ({ ...toSession(row), runnerIds: row.runner_ids as string[] }));
  }

  async getSession(sessionId: string): Promise<{
    session: SessionRecord;
    runs: RunRecord[];
    transcripts: TranscriptRecord[];
  } | null> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM session.sessions WHERE id = $1`,
      [sessionId],
    );
    if (!rows[0]) return null;
    const [runs, transcripts] = await Promise.all([
      this.dataSource.query<Row[]>(
        `SELECT * FROM session.session_runs WHERE session_id = $1 ${RUNS_ORDER}`,
        [sessionId],
      ),
      this.dataSource.query<Row[]>(
        `SELECT * FROM session.transcripts WHERE session_id = $1 ORDER BY kind, agent_id`,
        [sessionId],
      ),
    ]);
    return {
      session: toSession(rows[0]),
      runs: runs.map(toRun),
      transcripts: transcripts.map(toTranscript),
    };
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM session.sessions WHERE id = $1`,
      [sessionId],
    );
    return rows.length > 0;
  }

  async findTranscript(
    sessionId: string,
    kind: TranscriptKind,
    agentId: string | null,
  ): Promise<TranscriptRecord | null> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM session.transcripts WHERE session_id = $1 AND kind = $2 AND agent_id = $3`,
      [sessionId, kind, agentId ?? ''],
    );
    return rows[0] ? toTranscript(rows[0]) : null;
  }

  /**
   * Records a newly stored transcript version and returns the blob key of the version it
   * replaced (for the caller to delete once this committed), `null` for the first one. Row lock:
   * concurrent uploads of one transcript commit one after the other, the last one wins.
   */
  async replaceTranscript(record: TranscriptRecord): Promise<string | null> {
    return withTransaction(this.dataSource, async (manager) => {
      const agentId = record.agentId ?? '';
      const previous = await manager.query<Row[]>(
        `SELECT blob_key FROM session.transcripts
         WHERE session_id = $1 AND kind = $2 AND agent_id = $3 FOR UPDATE`,
        [record.sessionId, record.kind, agentId],
      );
      await manager.query(
        `INSERT INTO session.transcripts (session_id, kind, agent_id, blob_key, size, line_count,
           sha256, uploaded_at, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (session_id, kind, agent_id) DO UPDATE SET
           blob_key = EXCLUDED.blob_key, size = EXCLUDED.size, line_count = EXCLUDED.line_count,
           sha256 = EXCLUDED.sha256, uploaded_at = EXCLUDED.uploaded_at,
           uploaded_by = EXCLUDED.uploaded_by`,
        [
          record.sessionId,
          record.kind,
          agentId,
          record.blobKey,
          record.size,
          record.lineCount,
          record.sha256,
          record.uploadedAt,
          record.uploadedBy,
        ],
      );
      const replaced = previous[0] ? str(previous[0].blob_key) : null;
      return replaced === record.blobKey ? null : replaced;
    });
  }

  /** The runner whose token hashes to `tokenHash`, if session-store has seen its launch. */
  async findTokenOwner(tokenHash: string): Promise<TokenOwner | null> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT runner_id, project_id, ended_at FROM session.runners WHERE token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      runnerId: str(row.runner_id),
      projectId: str(row.project_id),
      endedAt: dateOrNull(row.ended_at),
    };
  }

  async runnerHasRun(sessionId: string, runnerId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM session.session_runs WHERE session_id = $1 AND runner_id = $2`,
      [sessionId, runnerId],
    );
    return rows.length > 0;
  }

  /** Tokens and cost of the days `fromDay`..`toDay` (both included), grouped. */
  async usageBy(
    by: UsageGrouping,
    fromDay: string,
    toDay: string,
    projectId: string | null,
  ): Promise<UsageAggregate[]> {
    const key = GROUP_KEY[by];
    const rows = await this.dataSource.query<Row[]>(
      `SELECT ${key} AS key,
         sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
         sum(cache_creation_5m_tokens) AS cache_creation_5m_tokens,
         sum(cache_creation_1h_tokens) AS cache_creation_1h_tokens,
         sum(cache_read_tokens) AS cache_read_tokens,
         sum(web_search_requests) AS web_search_requests, sum(cost_usd) AS cost_usd
       FROM session.usage_daily
       WHERE day BETWEEN $1::date AND $2::date AND ($3::uuid IS NULL OR project_id = $3)
       GROUP BY 1 ORDER BY 1`,
      [fromDay, toDay, projectId],
    );
    return rows.map((row) => ({
      key: str(row.key),
      tokens: tokensOf(row),
      costUsd: num(row.cost_usd),
    }));
  }

  /**
   * Outcomes of the runners launched on the days `fromDay`..`toDay` (UTC, both included), per
   * project and over all (the entry with `projectId: null`). Durations run from the first
   * heartbeat (or the launch when none came) to the end.
   */
  async runnerOutcomes(
    fromDay: string,
    toDay: string,
    projectId: string | null,
  ): Promise<RunnerOutcomeAggregate[]> {
    const scope = `FROM session.runners
       WHERE launched_at >= ($1::date::timestamp AT TIME ZONE 'UTC')
         AND launched_at < (($2::date + 1)::timestamp AT TIME ZONE 'UTC')
         AND ($3::uuid IS NULL OR project_id = $3)`;
    const params = [fromDay, toDay, projectId];
    const [outcomes, reasons] = await Promise.all([
      this.dataSource.query<Row[]>(
        `SELECT project_id::text AS project_id, GROUPING(project_id) AS total,
           count(*) AS launched,
           count(*) FILTER (WHERE state = 'active') AS active,
           count(*) FILTER (WHERE state = 'completed') AS completed,
           count(*) FILTER (WHERE state = 'failed') AS failed,
           count(*) FILTER (WHERE state = 'stopped') AS stopped,
           count(duration_ms) AS ended,
           avg(duration_ms) AS avg_ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms,
           max(duration_ms) AS max_ms
         FROM (SELECT project_id, state,
                 EXTRACT(EPOCH FROM ended_at - COALESCE(started_at, launched_at)) * 1000
                   AS duration_ms
               ${scope}) r
         GROUP BY GROUPING SETS ((project_id), ())
         ORDER BY total DESC, project_id`,
        params,
      ),
      this.dataSource.query<Row[]>(
        `SELECT project_id::text AS project_id, GROUPING(project_id) AS total, failure_reason,
           count(*) AS n
         ${scope} AND state = 'failed' AND failure_reason IS NOT NULL
         GROUP BY GROUPING SETS ((project_id, failure_reason), (failure_reason))`,
        params,
      ),
    ]);
    const reasonsOf = (project: string | null): Record<string, number> => {
      const found: Record<string, number> = {};
      for (const row of reasons) {
        const isTotal = num(row.total) === 1;
        if (project === null ? isTotal : !isTotal && row.project_id === project) {
          found[str(row.failure_reason)] = num(row.n);
        }
      }
      return found;
    };
    const rounded = (value: unknown) => Math.max(0, Math.round(num(value)));
    return outcomes
      .filter((row) => num(row.launched) > 0)
      .map((row) => {
        const project = num(row.total) === 1 ? null : str(row.project_id);
        return {
          projectId: project,
          launched: num(row.launched),
          active: num(row.active),
          completed: num(row.completed),
          failed: num(row.failed),
          stopped: num(row.stopped),
          failureReasons: reasonsOf(project),
          durationMs:
            num(row.ended) === 0
              ? null
              : {
                  avg: rounded(row.avg_ms),
                  p50: rounded(row.p50_ms),
                  p95: rounded(row.p95_ms),
                  max: rounded(row.max_ms),
                },
        };
      });
  }

  /** Pings the database (readiness). */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
