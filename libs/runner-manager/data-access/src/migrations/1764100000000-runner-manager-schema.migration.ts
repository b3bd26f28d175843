import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `runner.projects`, `runner.runners`, `runner.queued_launches`.
 *
 * - Project names are unique among non-archived projects only (partial unique index), so an
 *   archived project's name can be reused.
 * - `ix_runners_project_active` serves the quota count taken under the project's advisory lock.
 * - Token counters and memory are bigint: cumulative counters outgrow int4.
 */
export class RunnerManagerSchema1764100000000 implements MigrationInterface {
  name = 'RunnerManagerSchema1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "runner"."projects" (
        "id" uuid NOT NULL,
        "name" text NOT NULL,
        "path" text NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "command" text[] NOT NULL,
        "max_runners" integer NOT NULL,
        "env" jsonb NOT NULL DEFAULT '[]'::jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "archived_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_projects" PRIMARY KEY ("id"),
        CONSTRAINT "ck_projects_name" CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        CONSTRAINT "ck_projects_max_runners" CHECK (max_runners BETWEEN 1 AND 1000),
        CONSTRAINT "ck_projects_command" CHECK (cardinality(command) >= 1)
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX "uq_projects_name_active" ON "runner"."projects" ("name")
      WHERE archived_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "runner"."runners" (
        "id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "state" text NOT NULL,
        "desired_state" text NOT NULL DEFAULT 'run',
        "mode" text NOT NULL,
        "command" text[] NOT NULL,
        "prompt" text,
        "token_hash" character(64) NOT NULL,
        "pid" integer,
        "agent_pid" integer,
        "host" text,
        "exit_code" integer,
        "signal" text,
        "failure_reason" text,
        "session_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "last_heartbeat_at" TIMESTAMP WITH TIME ZONE,
        "last_heartbeat_seq" bigint,
        "cpu_percent" double precision,
        "memory_bytes" bigint,
        "input_tokens" bigint NOT NULL DEFAULT 0,
        "output_tokens" bigint NOT NULL DEFAULT 0,
        "cache_creation_tokens" bigint NOT NULL DEFAULT 0,
        "cache_read_tokens" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "pk_runners" PRIMARY KEY ("id"),
        CONSTRAINT "fk_runners_project" FOREIGN KEY ("project_id")
          REFERENCES "runner"."projects" ("id") ON DELETE RESTRICT,
        CONSTRAINT "ck_runners_state" CHECK (state IN
          ('pending', 'starting', 'running', 'stopping', 'completed', 'failed', 'stopped')),
        CONSTRAINT "ck_runners_desired_state" CHECK (desired_state IN ('run', 'stop', 'kill')),
        CONSTRAINT "ck_runners_mode" CHECK (mode IN ('headless', 'interactive'))
      )`);
    await queryRunner.query(`
      CREATE INDEX "ix_runners_project_active" ON "runner"."runners" ("project_id", "state")
      WHERE state IN ('pending', 'starting', 'running', 'stopping')`);
    await queryRunner.query(
      `CREATE INDEX "ix_runners_created_at" ON "runner"."runners" ("created_at")`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_runners_token_hash" ON "runner"."runners" ("token_hash")`,
    );
    await queryRunner.query(`
      CREATE TABLE "runner"."queued_launches" (
        "id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "position" bigint NOT NULL,
        "mode" text NOT NULL,
        "command" text[] NOT NULL,
        "prompt" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_queued_launches" PRIMARY KEY ("id"),
        CONSTRAINT "fk_queued_launches_project" FOREIGN KEY ("project_id")
          REFERENCES "runner"."projects" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_queued_launches_mode" CHECK (mode IN ('headless', 'interactive'))
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX "uq_queued_launches_project_position"
      ON "runner"."queued_launches" ("project_id", "position")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "runner"."uq_queued_launches_project_position"`);
    await queryRunner.query(`DROP TABLE "runner"."queued_launches"`);
    await queryRunner.query(`DROP INDEX "runner"."uq_runners_token_hash"`);
    await queryRunner.query(`DROP INDEX "runner"."ix_runners_created_at"`);
    await queryRunner.query(`DROP INDEX "runner"."ix_runners_project_active"`);
    await queryRunner.query(`DROP TABLE "runner"."runners"`);
    await queryRunner.query(`DROP INDEX "runner"."uq_projects_name_active"`);
    await queryRunner.query(`DROP TABLE "runner"."projects"`);
  }
}
