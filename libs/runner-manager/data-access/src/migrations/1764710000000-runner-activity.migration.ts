import { type MigrationInterface, type QueryRunner } from 'typeorm';

const STATES_BEFORE = `'pending', 'starting', 'running', 'stopping', 'completed', 'failed', 'stopped'`;
const STATES_AFTER = `'pending', 'starting', 'running', 'waiting', 'idle', 'stopping', 'completed', 'failed', 'stopped'`;
const ACTIVE_BEFORE = `'pending', 'starting', 'running', 'stopping'`;
const ACTIVE_AFTER = `'pending', 'starting', 'running', 'waiting', 'idle', 'stopping'`;

/**
 * Claude Code hooks and attached runners (docs/runners.md, "Waiting and idle" and "Attached
 * runners"):
 *
 * - `runners.state` may also be `waiting` (Claude Code needs a person) and `idle` (an
 *   interactive turn finished); both hold a quota slot, so the partial index of active runners
 *   covers them.
 * - `runners.activity`: the session activity last applied (`{ state, reason, message, since }`);
 *   `since` orders late or repeated `session.reported` events.
 * - `runners.attached`: started by the user's CLI in a terminal (`stratavore run`), never
 *   signalled or reaped by runner-manager.
 *
 * `down` refuses while a runner is `waiting` or `idle` (the old constraint would not hold).
 */
export class RunnerActivity1764710000000 implements MigrationInterface {
  name = 'RunnerActivity1764710000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.replaceStates(queryRunner, STATES_AFTER, ACTIVE_AFTER);
    await queryRunner.query(`
      ALTER TABLE "runner"."runners"
        ADD COLUMN "activity" jsonb,
        ADD COLUMN "attached" boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "runner"."runners"
        DROP COLUMN "attached",
        DROP COLUMN "activity"`);
    await this.replaceStates(queryRunner, STATES_BEFORE, ACTIVE_BEFORE);
  }

  private async replaceStates(queryRunner: QueryRunner, states: string, active: string) {
    await queryRunner.query(`
      ALTER TABLE "runner"."runners"
        DROP CONSTRAINT "ck_runners_state",
        ADD CONSTRAINT "ck_runners_state" CHECK (state IN (${states}))`);
    await queryRunner.query(`DROP INDEX "runner"."ix_runners_project_active"`);
    await queryRunner.query(`
      CREATE INDEX "ix_runners_project_active" ON "runner"."runners" ("project_id", "state")
      WHERE state IN (${active})`);
  }
}
