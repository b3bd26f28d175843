import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `budget.runner_overruns` (docs/budgets.md, "Stop on exceed"): a runner whose usage was booked
 * into a hard budget at or past its limit, recorded with its `budget.overrun` event. The key
 * (budget, period, runner) makes the event fire at most once per runner per budget period, so a
 * stream of heartbeats does not flood runner-manager. Rows go with their budget and period.
 */
export class BudgetRunnerOverruns1764800000000 implements MigrationInterface {
  name = 'BudgetRunnerOverruns1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "budget"."runner_overruns" (
        "budget_id" uuid NOT NULL,
        "period_id" uuid NOT NULL,
        "runner_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "fired_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_runner_overruns" PRIMARY KEY ("budget_id", "period_id", "runner_id"),
        CONSTRAINT "fk_runner_overruns_budget" FOREIGN KEY ("budget_id")
          REFERENCES "budget"."budgets" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_runner_overruns_period" FOREIGN KEY ("period_id")
          REFERENCES "budget"."periods" ("id") ON DELETE CASCADE
      )`);
    // The period foreign key's cascade, and re-arming after a raised limit, find rows by period.
    await queryRunner.query(
      `CREATE INDEX "ix_runner_overruns_period" ON "budget"."runner_overruns" ("period_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "budget"."ix_runner_overruns_period"`);
    await queryRunner.query(`DROP TABLE "budget"."runner_overruns"`);
  }
}
