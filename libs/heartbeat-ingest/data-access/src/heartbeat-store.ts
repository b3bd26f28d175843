import { type EventEnvelope, type HeartbeatStatus } from '@stratavore/contracts';
import { Inbox, type InboxResult, OutboxWriter } from '@stratavore/messaging';
import { createDataSource, runMigrations, withTransaction } from '@stratavore/persistence';
import { type DataSource, type EntityManager, type Logger as TypeOrmLogger } from 'typeorm';

import { HEARTBEAT_SCHEMA } from './heartbeat-schema';
import {
  type ActiveRunner,
  type FlushPlan,
  type LivenessSnapshot,
  type RegisteredRunner,
  type RegistryDesiredState,
  type RegistryWrites,
  type RunnerAccess,
  type RunnerRegistration,
  type StaleDecision,
} from './heartbeat-store.types';
import { HeartbeatSchema1764300000000 } from './migrations/1764300000000-heartbeat-schema.migration';
import { HeartbeatSessionProgress1764500000000 } from './migrations/1764500000000-heartbeat-session-progress.migration';

/** Migrations of the `heartbeat` schema, oldest first. */
export const heartbeatMigrations = [
  HeartbeatSchema1764300000000,
  HeartbeatSessionProgress1764500000000,
];

export interface HeartbeatStoreOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** Sees every SQL statement the store sends (diagnostics and tests counting statements). */
  readonly observeQueries?: (sql: string) => void;
}

/** A DataSource (not initialized) on schema `heartbeat` with its migrations; never synchronizes. */
export function heartbeatDataSource(url: string, options: HeartbeatStoreOptions = {}): DataSource {
  const dataSource = createDataSource({
    url,
    schema: HEARTBEAT_SCHEMA,
    migrations: heartbeatMigrations,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'heartbeat-ingest',
  });
  const observe = options.observeQueries;
  if (observe) {
    const logger: TypeOrmLogger = {
      logQuery: (query) => observe(query),
      logQueryError: () => undefined,
      logQuerySlow: () => undefined,
      logSchemaBuild: () => undefined,
      logMigration: () => undefined,
      log: () => undefined,
    };
    dataSource.setOptions({ logging: ['query'], logger });
  }
  return dataSource;
}

const RUNNER_COLUMNS = `runner_id, project_id, token_hash, interval_ms, desired_state, ended,
  registered_at, started_at, exit_reported_at, stale_reported_at, last_seq,
  input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
  session_digest, cost_session_id, cost_usd`;

interface RunnerRow {
  runner_id: string;
  project_id: string;
  token_hash: string;
  interval_ms: number;
  desired_state: RegistryDesiredState;
  ended: boolean;
  registered_at: Date;
  started_at: Date | null;
  exit_reported_at: Date | null;
  stale_reported_at: Date | null;
  last_seq: string | null;
  input_tokens: string;
  output_tokens: string;
  cache_creation_tokens: string;
  cache_read_tokens: string;
  session_digest: string | null;
  cost_session_id: string | null;
  cost_usd: number;
}

function toRunner(row: RunnerRow): RegisteredRunner {
  return {
    runnerId: row.runner_id,
    projectId: row.project_id,
    tokenHash: row.token_hash,
    intervalMs: row.interval_ms,
    desiredState: row.desired_state,
    ended: row.ended,
    registeredAt: row.registered_at,
    startedAt: row.started_at,
    exitReportedAt: row.exit_reported_at,
    staleReportedAt: row.stale_reported_at,
    lastSeq: row.last_seq === null ? null : Number(row.last_seq),
    counters: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      cacheCreationTokens: Number(row.cache_creation_tokens),
      cacheReadTokens: Number(row.cache_read_tokens),
    },
    session: {
      digest: row.session_digest,
      costSessionId: row.cost_session_id,
      costUsd: row.cost_usd,
    },
  };
}

interface ActiveRow {
  runner_id: string;
  project_id: string;
  interval_ms: number;
  registered_at: Date;
  last_heartbeat_at: Date | null;
  stale_reported_at: Date | null;
}

function toActive(row: ActiveRow): ActiveRunner {
  return {
    runnerId: row.runner_id,
    projectId: row.project_id,
    intervalMs: row.interval_ms,
    registeredAt: row.registered_at,
    lastHeartbeatAt: row.last_heartbeat_at,
    staleReportedAt: row.stale_reported_at,
  };
}

const ACCESS_SELECT = `SELECT runner_id, project_id, token_hash, interval_ms, desired_state, ended
  FROM heartbeat.runners`;

type AccessRow = Pick<
  RunnerRow,
  'runner_id' | 'project_id' | 'token_hash' | 'interval_ms' | 'desired_state' | 'ended'
>;

function toAccess(row: AccessRow): RunnerAccess {
  return {
    runnerId: row.runner_id,
    projectId: row.project_id,
    tokenHash: row.token_hash,
    intervalMs: row.interval_ms,
    desiredState: row.desired_state,
    ended: row.ended,
  };
}

const ACTIVE_SELECT = `SELECT r.runner_id, r.project_id, r.interval_ms, r.registered_at,
    l.last_heartbeat_at, r.stale_reported_at
  FROM heartbeat.runners r LEFT JOIN heartbeat.liveness l ON l.runner_id = r.runner_id
  WHERE NOT r.ended AND r.exit_reported_at IS NULL`;

/** The latest liveness of a runner, as stored. */
export interface StoredLiveness {
  readonly lastHeartbeatAt: Date;
  readonly sentAt: Date;
  readonly seq: number;
  readonly status: HeartbeatStatus;
  readonly pid: number | null;
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  readonly agentVersion: string;
  readonly sessionId: string | null;
}

function registryWritesOn(manager: EntityManager): RegistryWrites {
  return {
    async register(r: RunnerRegistration) {
      const rows = await manager.query<unknown[]>(
        `INSERT INTO heartbeat.runners
           (runner_id, project_id, token_hash, interval_ms, registered_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (runner_id) DO NOTHING
         RETURNING 1`,
        [r.runnerId, r.projectId, r.tokenHash, r.intervalMs, r.registeredAt],
      );
      return rowCount(rows) > 0;
    },
    async setDesiredState(runnerId: string, desiredState: RegistryDesiredState) {
      const rows = await manager.query<unknown[]>(
        `UPDATE heartbeat.runners SET desired_state = $2 WHERE runner_id = $1 RETURNING 1`,
        [runnerId, desiredState],
      );
      return rowCount(rows) > 0;
    },
    async markEnded(runnerId: string, endedAt: Date) {
      const rows = await manager.query<unknown[]>(
        `UPDATE heartbeat.runners SET ended = true, ended_at = COALESCE(ended_at, $2)
         WHERE runner_id = $1 RETURNING 1`,
        [runnerId, endedAt],
      );
      return rowCount(rows) > 0;
    },
  };
}

/** TypeORM answers an UPDATE ... RETURNING with `[rows, count]`, an INSERT with the rows. */
function rowCount(result: unknown[]): number {
  if (result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[1];
  }
  return result.length;
}

/**
 * heartbeat-ingest's storage: the runner registry, liveness, and the outbox writes that go with
 * them. Every write that emits events appends them to `messaging.outbox` in the same
 * transaction (the `messaging` schema must be migrated; the service runtime does it).
 */
export class HeartbeatStore {
  private readonly inbox = new Inbox();
  private readonly outbox = new OutboxWriter();

  private constructor(private readonly dataSource: DataSource) {}

  /** Opens the pool and migrates the `heartbeat` schema under the migration lock. */
  static async open(url: string, options: HeartbeatStoreOptions = {}): Promise<HeartbeatStore> {
    const dataSource = heartbeatDataSource(url, options);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    return new HeartbeatStore(dataSource);
  }

  async findRunner(runnerId: string): Promise<RegisteredRunner | null> {
    const rows = await this.dataSource.query<RunnerRow[]>(
      `SELECT ${RUNNER_COLUMNS} FROM heartbeat.runners WHERE runner_id = $1`,
      [runnerId],
    );
    return rows[0] ? toRunner(rows[0]) : null;
  }

  /** What heartbeats of each of `runnerIds` are checked against; unknown ids are absent. */
  async findRunnerAccess(runnerIds: readonly string[]): Promise<RunnerAccess[]> {
    if (runnerIds.length === 0) return [];
    const rows = await this.dataSource.query<AccessRow[]>(
      `${ACCESS_SELECT} WHERE runner_id = ANY($1::uuid[])`,
      [runnerIds],
    );
    return rows.map(toAccess);
  }

  /** The access of every runner that has not ended (a replica's registry cache at start). */
  async listActiveRunnerAccess(): Promise<RunnerAccess[]> {
    const rows = await this.dataSource.query<AccessRow[]>(`${ACCESS_SELECT} WHERE NOT ended`);
    return rows.map(toAccess);
  }

  /** The runner a token hash belongs to, if any. */
  async findRunnerIdByTokenHash(tokenHash: string): Promise<string | null> {
    const rows = await this.dataSource.query<Array<{ runner_id: string }>>(
      `SELECT runner_id FROM heartbeat.runners WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows[0]?.runner_id ?? null;
  }

  async findLiveness(runnerId: string): Promise<StoredLiveness | null> {
    const rows = await this.dataSource.query<
      Array<{
        last_heartbeat_at: Date;
        sent_at: Date;
        seq: string;
        status: HeartbeatStatus;
        pid: number | null;
        cpu_percent: number;
        memory_bytes: string;
        agent_version: string;
        session_id: string | null;
      }>
    >(`SELECT * FROM heartbeat.liveness WHERE runner_id = $1`, [runnerId]);
    const row = rows[0];
    if (!row) return null;
    return {
      lastHeartbeatAt: row.last_heartbeat_at,
      sentAt: row.sent_at,
      seq: Number(row.seq),
      status: row.status,
      pid: row.pid,
      cpuPercent: row.cpu_percent,
      memoryBytes: Number(row.memory_bytes),
      agentVersion: row.agent_version,
      sessionId: row.session_id,
    };
  }

  /**
   * The latest flushed report of each runner in `runnerIds` that has one, with the counters
   * booked in the registry; one indexed read, unknown or silent runners are absent.
   */
  async findLivenessMany(runnerIds: readonly string[]): Promise<LivenessSnapshot[]> {
    if (runnerIds.length === 0) return [];
    const rows = await this.dataSource.query<
      Array<{
        runner_id: string;
        last_heartbeat_at: Date;
        seq: string;
        status: HeartbeatStatus;
        pid: number | null;
        cpu_percent: number;
        memory_bytes: string;
        input_tokens: string;
        output_tokens: string;
        cache_creation_tokens: string;
        cache_read_tokens: string;
      }>
    >(
      `SELECT l.runner_id, l.last_heartbeat_at, l.seq, l.status, l.pid, l.cpu_percent,
         l.memory_bytes, r.input_tokens, r.output_tokens, r.cache_creation_tokens,
         r.cache_read_tokens
       FROM heartbeat.liveness l JOIN heartbeat.runners r ON r.runner_id = l.runner_id
       WHERE l.runner_id = ANY($1::uuid[])
       ORDER BY l.runner_id`,
      [runnerIds],
    );
    return rows.map((row) => ({
      runnerId: row.runner_id,
      lastHeartbeatAt: row.last_heartbeat_at,
      seq: Number(row.seq),
      status: row.status,
      pid: row.pid,
      cpuPercent: row.cpu_percent,
      memoryBytes: Number(row.memory_bytes),
      counters: {
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
        cacheCreationTokens: Number(row.cache_creation_tokens),
        cacheReadTokens: Number(row.cache_read_tokens),
      },
    }));
  }

  /**
   * Runs `work` once per (consumer, event id): the inbox row and the registry changes commit
   * together, so a redelivered event changes nothing.
   */
  runOnce(
    consumer: string,
    eventId: string,
    work: (registry: RegistryWrites) => Promise<void>,
  ): Promise<InboxResult> {
    return this.inbox.runOnce(this.dataSource, consumer, eventId, (manager) =>
      work(registryWritesOn(manager)),
    );
  }

  /**
   * One flush of buffered heartbeats, in one transaction: locks the registry rows of
   * `runnerIds` (in id order, so concurrent flushes cannot deadlock), lets `decide` plan from
   * what is recorded (it may take its time: the rows stay locked), then writes the plan with one statement per table: one
   * `UPDATE ... FROM unnest(...)` of the registry, one multi-row
   * `INSERT ... ON CONFLICT DO UPDATE` of the liveness, one multi-row outbox insert.
   * Unknown runner ids are not passed to `decide`.
   */
  async flush(
    runnerIds: readonly string[],
    decide: (locked: RegisteredRunner[]) => FlushPlan | Promise<FlushPlan>,
  ) {
    return withTransaction(this.dataSource, async (manager) => {
      const rows = await manager.query<RunnerRow[]>(
        `SELECT ${RUNNER_COLUMNS} FROM heartbeat.runners
         WHERE runner_id = ANY($1::uuid[]) ORDER BY runner_id FOR UPDATE`,
        [runnerIds],
      );
      const plan = await decide(rows.map(toRunner));
      await this.writeProgress(manager, plan);
      await this.writeLiveness(manager, plan);
      await this.outbox.append(manager, plan.events);
      return plan;
    });
  }

  private async writeProgress(manager: EntityManager, plan: FlushPlan): Promise<void> {
    const p = plan.progress;
    if (p.length === 0) return;
    await manager.query(
      `UPDATE heartbeat.runners r SET
         last_seq = v.last_seq,
         input_tokens = v.input_tokens,
         output_tokens = v.output_tokens,
         cache_creation_tokens = v.cache_creation_tokens,
         cache_read_tokens = v.cache_read_tokens,
         started_at = v.started_at,
         exit_reported_at = v.exit_reported_at,
         session_digest = v.session_digest,
         cost_session_id = v.cost_session_id,
         cost_usd = v.cost_usd
       FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                   $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[],
                   $11::float8[])
         AS v(runner_id, last_seq, input_tokens, output_tokens, cache_creation_tokens,
              cache_read_tokens, started_at, exit_reported_at, session_digest, cost_session_id,
              cost_usd)
       WHERE r.runner_id = v.runner_id`,
      [
        p.map((x) => x.runnerId),
        p.map((x) => x.lastSeq),
        p.map((x) => x.counters.inputTokens),
        p.map((x) => x.counters.outputTokens),
        p.map((x) => x.counters.cacheCreationTokens),
        p.map((x) => x.counters.cacheReadTokens),
        p.map((x) => x.startedAt),
        p.map((x) => x.exitReportedAt),
        p.map((x) => x.session.digest),
        p.map((x) => x.session.costSessionId),
        p.map((x) => x.session.costUsd),
      ],
    );
  }

  private async writeLiveness(manager: EntityManager, plan: FlushPlan): Promise<void> {
    const l = plan.liveness;
    if (l.length === 0) return;
    // The WHERE keeps a slower replica's older report from overwriting a newer one.
    await manager.query(
      `INSERT INTO heartbeat.liveness AS t (runner_id, last_heartbeat_at, sent_at, seq, status,
         pid, cpu_percent, memory_bytes, agent_version, session_id)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::bigint[],
         $5::text[], $6::integer[], $7::float8[], $8::bigint[], $9::text[], $10::text[])
       ON CONFLICT (runner_id) DO UPDATE SET
         last_heartbeat_at = EXCLUDED.last_heartbeat_at,
         sent_at = EXCLUDED.sent_at,
         seq = EXCLUDED.seq,
         status = EXCLUDED.status,
         pid = EXCLUDED.pid,
         cpu_percent = EXCLUDED.cpu_percent,
         memory_bytes = EXCLUDED.memory_bytes,
         agent_version = EXCLUDED.agent_version,
         session_id = EXCLUDED.session_id
       WHERE t.last_heartbeat_at <= EXCLUDED.last_heartbeat_at`,
      [
        l.map((x) => x.runnerId),
        l.map((x) => x.lastHeartbeatAt),
        l.map((x) => x.sentAt),
        l.map((x) => x.seq),
        l.map((x) => x.status),
        l.map((x) => x.pid),
        l.map((x) => x.cpuPercent),
        l.map((x) => x.memoryBytes),
        l.map((x) => x.agentVersion),
        l.map((x) => x.sessionId),
      ],
    );
  }

  /** Runners that have not ended, with their latest heartbeat time. */
  async listActiveRunners(): Promise<ActiveRunner[]> {
    const rows = await this.dataSource.query<ActiveRow[]>(`${ACTIVE_SELECT} ORDER BY r.runner_id`);
    return rows.map(toActive);
  }

  /**
   * Reports stale runners in one transaction: locks the candidates' registry rows (a flush of
   * a late heartbeat waits or has committed), lets `decide` judge the fresh rows, then stamps
   * `stale_reported_at` on the runners it chose and appends its events.
   */
  async reportStale(
    candidateIds: readonly string[],
    reportedAt: Date,
    decide: (fresh: ActiveRunner[]) => StaleDecision,
  ): Promise<StaleDecision> {
    if (candidateIds.length === 0) return { runnerIds: [], events: [] };
    return withTransaction(this.dataSource, async (manager) => {
      const rows = await manager.query<ActiveRow[]>(
        `${ACTIVE_SELECT} AND r.runner_id = ANY($1::uuid[]) ORDER BY r.runner_id FOR UPDATE OF r`,
        [candidateIds],
      );
      const decision = decide(rows.map(toActive));
      if (decision.runnerIds.length > 0) {
        await manager.query(
          `UPDATE heartbeat.runners SET stale_reported_at = $2 WHERE runner_id = ANY($1::uuid[])`,
          [decision.runnerIds, reportedAt],
        );
      }
      await this.outbox.append(manager, decision.events);
      return decision;
    });
  }

  /** Appends events that go with no state change of ours (alerts). */
  async appendEvents(events: readonly EventEnvelope[]): Promise<void> {
    await withTransaction(this.dataSource, (manager) => this.outbox.append(manager, events));
  }

  /** Pings the database (readiness). */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
