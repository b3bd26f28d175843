import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Launch origin and restart policies (docs/runners.md, "Restart policy"):
 *
 * - `runners` and `queued_launches` get `cwd`, `resumed_from` (the Claude session resumed),
 *   `restart_policy` (`no` | `on-failure`), `max_restarts`, `restart_of` (the ended runner
 *   replaced) and `restarts` (restarts that led to it); `runners` also `session_result`, the
 *   Claude session's result as `session.reported` said it, which restart decisions read.
 * - `planned_restarts`: the relaunch planned for an ended runner, one per runner (unique), with
 *   its `restart_at`; the leader's timer picks up `scheduled` rows that are due
 *   (`ix_planned_restarts_due`), so a plan survives a restart of runner-manager.
 */
export class RunnerRestarts1764610000000 implements MigrationInterface {
  name = 'RunnerRestarts1764610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['runners', 'queued_launches']) {
      await queryRunner.query(`
        ALTER TABLE "runner"."${table}"
          ADD COLUMN "cwd" text,
          ADD COLUMN "resumed_from" text,
          ADD COLUMN "restart_policy" text NOT NULL DEFAULT 'no',
          ADD COLUMN "max_restarts" integer NOT NULL DEFAULT 0,
          ADD COLUMN "restart_of" uuid,
          ADD COLUMN "restarts" integer NOT NULL DEFAULT 0,
          ADD CONSTRAINT "ck_${table}_restart_policy"
            CHECK (restart_policy IN ('no', 'on-failure')),
          ADD CONSTRAINT "ck_${table}_restarts" CHECK (max_restarts >= 0 AND restarts >= 0)`);
    }
    await queryRunner.query(`ALTER TABLE "runner"."runners" ADD COLUMN "session_result" jsonb`);
    await queryRunner.query(`
      CREATE TABLE "runner"."planned_restarts" (
        "id" uuid NOT NULL,
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "attempt" integer NOT NULL,
        "restart_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "reason" text NOT NULL,
        "resume_session_id" text,
        "state" text NOT NULL,
        "replacement_id" uuid,
        "detail" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_planned_restarts" PRIMARY KEY ("id"),
        CONSTRAINT "fk_planned_restarts_runner" FOREIGN KEY ("runner_id")
          REFERENCES "runner"."runners" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_planned_restarts_project" FOREIGN KEY ("project_id")
          REFERENCES "runner"."projects" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_planned_restarts_attempt" CHECK (attempt >= 1),
        CONSTRAINT "ck_planned_restarts_reason" CHECK (reason IN ('backoff', 'usage_limit')),
        CONSTRAINT "ck_planned_restarts_state" CHECK (state IN
          ('scheduled', 'launched', 'queued', 'cancelled', 'failed'))
      )`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX "uq_planned_restarts_runner" ON "runner"."planned_restarts" ("runner_id")`);
    await queryRunner.query(`
      CREATE INDEX "ix_planned_restarts_due" ON "runner"."planned_restarts" ("restart_at")
      WHERE state = 'scheduled'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "runner"."ix_planned_restarts_due"`);
    await queryRunner.query(`DROP INDEX "runner"."uq_planned_restarts_runner"`);
    await queryRunner.query(`DROP TABLE "runner"."planned_restarts"`);
    await queryRunner.query(`ALTER TABLE "runner"."runners" DROP COLUMN "session_result"`);
    for (const table of ['queued_launches', 'runners']) {
      await queryRunner.query(`
        ALTER TABLE "runner"."${table}"
          DROP CONSTRAINT "ck_${table}_restarts",
          DROP CONSTRAINT "ck_${table}_restart_policy",
          DROP COLUMN "restarts",
          DROP COLUMN "restart_of",
          DROP COLUMN "max_restarts",
          DROP COLUMN "restart_policy",
          DROP COLUMN "resumed_from",
          DROP COLUMN "cwd"`);
    }
  }
}
