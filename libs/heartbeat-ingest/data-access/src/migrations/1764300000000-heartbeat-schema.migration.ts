import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `heartbeat.runners` (the registry heartbeat-ingest keeps from runner-manager's events, with
 * the last recorded seq and cumulative counters) and `heartbeat.liveness` (the latest report).
 *
 * - `uq_runners_token_hash`: authentication finds the owner of a token by its hash (403 versus
 *   401) without a second index of tokens; runner tokens are 32 random bytes, so hashes never
 *   collide in practice.
 * - `ix_runners_active`: the stale-runner detector reads only runners that have not ended.
 * - Counters and memory are bigint: cumulative counters outgrow int4.
 */
export class HeartbeatSchema1764300000000 implements MigrationInterface {
  name = 'HeartbeatSchema1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "heartbeat"."runners" (
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "token_hash" character(64) NOT NULL,
        "interval_ms" integer NOT NULL,
        "desired_state" text NOT NULL DEFAULT 'run',
        "ended" boolean NOT NULL DEFAULT false,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "registered_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "exit_reported_at" TIMESTAMP WITH TIME ZONE,
        "stale_reported_at" TIMESTAMP WITH TIME ZONE,
        "last_seq" bigint,
        "input_tokens" bigint NOT NULL DEFAULT 0,
        "output_tokens" bigint NOT NULL DEFAULT 0,
        "cache_creation_tokens" bigint NOT NULL DEFAULT 0,
        "cache_read_tokens" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "pk_runners" PRIMARY KEY ("runner_id"),
        CONSTRAINT "ck_runners_interval_ms" CHECK (interval_ms > 0),
        CONSTRAINT "ck_runners_desired_state" CHECK (desired_state IN ('run', 'stop', 'kill')),
        CONSTRAINT "ck_runners_token_hash" CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT "ck_runners_counters" CHECK (
          input_tokens >= 0 AND output_tokens >= 0
          AND cache_creation_tokens >= 0 AND cache_read_tokens >= 0)
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_runners_token_hash" ON "heartbeat"."runners" ("token_hash")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_runners_active" ON "heartbeat"."runners" ("runner_id") WHERE NOT ended`,
    );
    await queryRunner.query(`
      CREATE TABLE "heartbeat"."liveness" (
        "runner_id" uuid NOT NULL,
        "last_heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "sent_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "seq" bigint NOT NULL,
        "status" text NOT NULL,
        "pid" integer,
        "cpu_percent" double precision NOT NULL,
        "memory_bytes" bigint NOT NULL,
        "agent_version" text NOT NULL,
        "session_id" text,
        CONSTRAINT "pk_liveness" PRIMARY KEY ("runner_id"),
        CONSTRAINT "fk_liveness_runner" FOREIGN KEY ("runner_id")
          REFERENCES "heartbeat"."runners" ("runner_id") ON DELETE CASCADE,
        CONSTRAINT "ck_liveness_status" CHECK (status IN ('starting', 'running', 'exited'))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "heartbeat"."liveness"`);
    await queryRunner.query(`DROP INDEX "heartbeat"."ix_runners_active"`);
    await queryRunner.query(`DROP INDEX "heartbeat"."uq_runners_token_hash"`);
    await queryRunner.query(`DROP TABLE "heartbeat"."runners"`);
  }
}
