import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What heartbeat-ingest remembers of each runner's Claude Code session (docs/sessions.md):
 *
 * - `session_digest`: sha256 of the last session snapshot it emitted as `session.reported`, so an
 *   unchanged snapshot (most heartbeats) emits nothing.
 * - `cost_session_id` / `cost_usd`: the cumulative `session.costUsd` last booked and the session
 *   it belongs to; `usage.reported` carries the growth as `costUsd`, like the token counters.
 */
export class HeartbeatSessionProgress1764500000000 implements MigrationInterface {
  name = 'HeartbeatSessionProgress1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "heartbeat"."runners"
        ADD COLUMN "session_digest" character(64),
        ADD COLUMN "cost_session_id" text,
        ADD COLUMN "cost_usd" double precision NOT NULL DEFAULT 0,
        ADD CONSTRAINT "ck_runners_cost_usd" CHECK (cost_usd >= 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "heartbeat"."runners"
        DROP CONSTRAINT "ck_runners_cost_usd",
        DROP COLUMN "cost_usd",
        DROP COLUMN "cost_session_id",
        DROP COLUMN "session_digest"`);
  }
}
