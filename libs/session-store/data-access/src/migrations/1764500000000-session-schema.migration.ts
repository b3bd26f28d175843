import { type MigrationInterface, type QueryRunner } from 'typeorm';

const TOKEN_COLUMNS = `
        "input_tokens" bigint NOT NULL DEFAULT 0,
        "output_tokens" bigint NOT NULL DEFAULT 0,
        "cache_creation_5m_tokens" bigint NOT NULL DEFAULT 0,
        "cache_creation_1h_tokens" bigint NOT NULL DEFAULT 0,
        "cache_read_tokens" bigint NOT NULL DEFAULT 0,
        "web_search_requests" bigint NOT NULL DEFAULT 0`;

const RESULT_COLUMNS = `
        "result_subtype" text,
        "result_is_error" boolean,
        "result_resumable" boolean,
        "result_resume_at" TIMESTAMP WITH TIME ZONE`;

/**
 * The `session` schema (docs/sessions.md):
 *
 * - `sessions`: one row per Claude Code session id, its totals = the sum of its runs, recomputed
 *   in the transaction that changes a run.
 * - `session_runs`: per (session, runner) the latest cumulative snapshot and its heartbeat seq,
 *   so an older snapshot never overwrites a newer one. `models` holds tokens per model and the
 *   part of the run's cost attributed to each.
 * - `transcripts`: metadata of the uploaded transcripts (`agent_id` is '' for `main`, so the
 *   primary key needs no NULL), the content is in the blob store under `blob_key`.
 * - `runners`: session-store's own registry of runners from runner-manager's events: the token
 *   hash that authenticates transcript uploads, and the outcome the statistics read.
 * - `usage_daily`: a ledger of token and cost growth per UTC day, project and model, booked from
 *   the growth of run snapshots; `usage.by` sums it.
 *
 * Money is numeric(20,10): sums over many rows stay exact. Counters are bigint.
 */
export class SessionSchema1764500000000 implements MigrationInterface {
  name = 'SessionSchema1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "session"."sessions" (
        "id" text NOT NULL,
        "project_id" uuid NOT NULL,
        "first_runner_id" uuid NOT NULL,
        "cwd" text,
        "models" jsonb NOT NULL DEFAULT '{}',
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "turns" integer NOT NULL DEFAULT 0,${TOKEN_COLUMNS},
        "cost_usd" numeric(20, 10),
        "reported_cost_usd" numeric(20, 10),${RESULT_COLUMNS},
        "resumed_from" text,
        "waiting_for_input" boolean NOT NULL DEFAULT false,
        CONSTRAINT "pk_sessions" PRIMARY KEY ("id"),
        CONSTRAINT "ck_sessions_id" CHECK (length(id) BETWEEN 1 AND 256)
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_sessions_last_seen" ON "session"."sessions" ("last_seen_at" DESC, "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_sessions_project_last_seen" ON "session"."sessions"
         ("project_id", "last_seen_at" DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "session"."session_runs" (
        "session_id" text NOT NULL,
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "seq" bigint NOT NULL,
        "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "models" jsonb NOT NULL,
        "turns" integer NOT NULL,
        "cost_usd" numeric(20, 10),
        "reported_cost_usd" numeric(20, 10),
        "cwd" text,
        "transcript_path" text,
        "resumed_from" text,
        "waiting_for_input" boolean NOT NULL,${RESULT_COLUMNS},
        CONSTRAINT "pk_session_runs" PRIMARY KEY ("session_id", "runner_id"),
        CONSTRAINT "fk_session_runs_session" FOREIGN KEY ("session_id")
          REFERENCES "session"."sessions" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_session_runs_runner" ON "session"."session_runs" ("runner_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "session"."transcripts" (
        "session_id" text NOT NULL,
        "kind" text NOT NULL,
        "agent_id" text NOT NULL DEFAULT '',
        "blob_key" text NOT NULL,
        "size" bigint NOT NULL,
        "line_count" bigint NOT NULL,
        "sha256" character(64) NOT NULL,
        "uploaded_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "uploaded_by" uuid NOT NULL,
        CONSTRAINT "pk_transcripts" PRIMARY KEY ("session_id", "kind", "agent_id"),
        CONSTRAINT "fk_transcripts_session" FOREIGN KEY ("session_id")
          REFERENCES "session"."sessions" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_transcripts_kind" CHECK (
          (kind = 'main' AND agent_id = '') OR (kind = 'subagent' AND agent_id <> ''))
      )`);
    await queryRunner.query(`
      CREATE TABLE "session"."runners" (
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "token_hash" character(64),
        "launched_at" TIMESTAMP WITH TIME ZONE,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "state" text NOT NULL DEFAULT 'active',
        "failure_reason" text,
        "exit_code" integer,
        CONSTRAINT "pk_runners" PRIMARY KEY ("runner_id"),
        CONSTRAINT "ck_runners_state" CHECK (
          state IN ('active', 'completed', 'failed', 'stopped')),
        CONSTRAINT "ck_runners_token_hash" CHECK (token_hash ~ '^[0-9a-f]{64}$')
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_runners_token_hash" ON "session"."runners" ("token_hash")
         WHERE token_hash IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_runners_launched" ON "session"."runners" ("launched_at", "project_id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "session"."usage_daily" (
        "day" date NOT NULL,
        "project_id" uuid NOT NULL,
        "model" text NOT NULL,${TOKEN_COLUMNS},
        "cost_usd" numeric(20, 10) NOT NULL DEFAULT 0,
        CONSTRAINT "pk_usage_daily" PRIMARY KEY ("day", "project_id", "model")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "session"."usage_daily"`);
    await queryRunner.query(`DROP TABLE "session"."runners"`);
    await queryRunner.query(`DROP TABLE "session"."transcripts"`);
    await queryRunner.query(`DROP TABLE "session"."session_runs"`);
    await queryRunner.query(`DROP TABLE "session"."sessions"`);
  }
}
