import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Launch estimates for budget reservations: a project's default (`runner.projects`) and a
 * queued launch's own override (`runner.queued_launches`), both nullable (`null`: none). Tokens
 * are bigint like the counters; USD is numeric with six decimals, as budget-service keeps
 * micro-dollars.
 */
export class RunnerLaunchEstimates1764400000000 implements MigrationInterface {
  name = 'RunnerLaunchEstimates1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['projects', 'queued_launches']) {
      await queryRunner.query(`
        ALTER TABLE "runner"."${table}"
          ADD COLUMN "estimate_tokens" bigint,
          ADD COLUMN "estimate_usd" numeric(18, 6),
          ADD CONSTRAINT "ck_${table}_estimate_tokens" CHECK (estimate_tokens >= 0),
          ADD CONSTRAINT "ck_${table}_estimate_usd" CHECK (estimate_usd >= 0)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['queued_launches', 'projects']) {
      await queryRunner.query(`
        ALTER TABLE "runner"."${table}"
          DROP CONSTRAINT "ck_${table}_estimate_usd",
          DROP CONSTRAINT "ck_${table}_estimate_tokens",
          DROP COLUMN "estimate_usd",
          DROP COLUMN "estimate_tokens"`);
    }
  }
}
