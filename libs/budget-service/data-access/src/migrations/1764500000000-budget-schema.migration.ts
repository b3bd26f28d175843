import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `budget.budgets`, `budget.periods`, `budget.reservations`, `budget.ledger`,
 * `budget.threshold_firings` (docs/budgets.md).
 *
 * - One budget per scope (`uq_budgets_scope_key`); at least one limit.
 * - One row per budget per period; at most one open period per budget
 *   (`uq_periods_open`), periods of a budget never start twice (`uq_periods_start`).
 * - Reservations: one row per (reservation, budget); the partial indexes serve the reserved
 *   sum of a budget, a runner's release and the expirer.
 * - The ledger's primary key is the `usage.reported` event id: an event applied twice inserts
 *   nothing the second time, so it changes nothing.
 * - Threshold firings are unique per budget, period and threshold (1 = exceeded).
 * - USD amounts are bigint micro-dollars; token amounts bigint.
 */
export class BudgetSchema1764500000000 implements MigrationInterface {
  name = 'BudgetSchema1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "budget"."budgets" (
        "id" uuid NOT NULL,
        "scope_key" text NOT NULL,
        "scope" jsonb NOT NULL,
        "limit_tokens" bigint,
        "limit_usd_micros" bigint,
        "token_kinds" text[] NOT NULL,
        "period" text NOT NULL,
        "time_zone" text NOT NULL,
        "week_starts_on" smallint NOT NULL,
        "month_day" smallint NOT NULL,
        "time_of_day" text NOT NULL,
        "warn_thresholds" double precision[] NOT NULL,
        "rollover_enabled" boolean NOT NULL,
        "rollover_cap_tokens" bigint,
        "rollover_cap_usd_micros" bigint,
        "enforcement" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_budgets" PRIMARY KEY ("id"),
        CONSTRAINT "ck_budgets_limits" CHECK (
          (limit_tokens IS NOT NULL OR limit_usd_micros IS NOT NULL)
          AND (limit_tokens IS NULL OR limit_tokens > 0)
          AND (limit_usd_micros IS NULL OR limit_usd_micros > 0)),
        CONSTRAINT "ck_budgets_token_kinds" CHECK (cardinality(token_kinds) >= 1
          AND token_kinds <@ ARRAY['input', 'output', 'cacheCreation', 'cacheRead']::text[]),
        CONSTRAINT "ck_budgets_period" CHECK (period IN ('daily', 'weekly', 'monthly', 'none')),
        CONSTRAINT "ck_budgets_anchor" CHECK (week_starts_on BETWEEN 1 AND 7
          AND month_day BETWEEN 1 AND 31 AND time_of_day ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        CONSTRAINT "ck_budgets_enforcement" CHECK (enforcement IN ('hard', 'soft')),
        CONSTRAINT "ck_budgets_rollover_caps" CHECK (
          (rollover_cap_tokens IS NULL OR rollover_cap_tokens >= 0)
          AND (rollover_cap_usd_micros IS NULL OR rollover_cap_usd_micros >= 0))
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_budgets_scope_key" ON "budget"."budgets" ("scope_key")`,
    );
    await queryRunner.query(`
      CREATE TABLE "budget"."periods" (
        "id" uuid NOT NULL,
        "budget_id" uuid NOT NULL,
        "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ends_at" TIMESTAMP WITH TIME ZONE,
        "limit_tokens" bigint,
        "limit_usd_micros" bigint,
        "carry_tokens" bigint NOT NULL DEFAULT 0,
        "carry_usd_micros" bigint NOT NULL DEFAULT 0,
        "used_input" bigint NOT NULL DEFAULT 0,
        "used_output" bigint NOT NULL DEFAULT 0,
        "used_cache_creation" bigint NOT NULL DEFAULT 0,
        "used_cache_read" bigint NOT NULL DEFAULT 0,
        "used_usd_micros" bigint NOT NULL DEFAULT 0,
        "rebaselined" boolean NOT NULL DEFAULT false,
        "closed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_periods" PRIMARY KEY ("id"),
        CONSTRAINT "fk_periods_budget" FOREIGN KEY ("budget_id")
          REFERENCES "budget"."budgets" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_periods_bounds" CHECK (ends_at IS NULL OR ends_at > starts_at),
        CONSTRAINT "ck_periods_amounts" CHECK (carry_tokens >= 0 AND carry_usd_micros >= 0
          AND used_input >= 0 AND used_output >= 0 AND used_cache_creation >= 0
          AND used_cache_read >= 0 AND used_usd_micros >= 0)
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_periods_start" ON "budget"."periods" ("budget_id", "starts_at")`,
    );
    await queryRunner.query(`
      CREATE UNIQUE INDEX "uq_periods_open" ON "budget"."periods" ("budget_id")
      WHERE closed_at IS NULL`);
    await queryRunner.query(`
      CREATE INDEX "ix_periods_open_end" ON "budget"."periods" ("ends_at")
      WHERE closed_at IS NULL AND ends_at IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE "budget"."reservations" (
        "reservation_id" uuid NOT NULL,
        "budget_id" uuid NOT NULL,
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "estimate_tokens" bigint NOT NULL,
        "estimate_usd_micros" bigint NOT NULL,
        "remaining_tokens" bigint NOT NULL,
        "remaining_usd_micros" bigint NOT NULL,
        "ttl_ms" integer NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "released_at" TIMESTAMP WITH TIME ZONE,
        "release_reason" text,
        CONSTRAINT "pk_reservations" PRIMARY KEY ("reservation_id", "budget_id"),
        CONSTRAINT "fk_reservations_budget" FOREIGN KEY ("budget_id")
          REFERENCES "budget"."budgets" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_reservations_amounts" CHECK (estimate_tokens >= 0
          AND estimate_usd_micros >= 0 AND remaining_tokens >= 0 AND remaining_usd_micros >= 0),
        CONSTRAINT "ck_reservations_ttl" CHECK (ttl_ms > 0),
        CONSTRAINT "ck_reservations_release" CHECK ((released_at IS NULL) = (release_reason IS NULL)
          AND (release_reason IS NULL
            OR release_reason IN ('released', 'runner_ended', 'expired')))
      )`);
    await queryRunner.query(`
      CREATE INDEX "ix_reservations_budget_active" ON "budget"."reservations"
        ("budget_id", "expires_at") WHERE released_at IS NULL`);
    await queryRunner.query(`
      CREATE INDEX "ix_reservations_runner_active" ON "budget"."reservations" ("runner_id")
      WHERE released_at IS NULL`);
    await queryRunner.query(`
      CREATE INDEX "ix_reservations_expiry" ON "budget"."reservations" ("expires_at")
      WHERE released_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "budget"."ledger" (
        "event_id" uuid NOT NULL,
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "session_id" text,
        "model" text,
        "input_tokens" bigint NOT NULL,
        "output_tokens" bigint NOT NULL,
        "cache_creation_tokens" bigint NOT NULL,
        "cache_read_tokens" bigint NOT NULL,
        "usd_micros" bigint,
        "observed_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "booked_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_ledger" PRIMARY KEY ("event_id"),
        CONSTRAINT "ck_ledger_amounts" CHECK (input_tokens >= 0 AND output_tokens >= 0
          AND cache_creation_tokens >= 0 AND cache_read_tokens >= 0
          AND (usd_micros IS NULL OR usd_micros >= 0))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_ledger_observed_at" ON "budget"."ledger" ("observed_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_ledger_project_observed_at" ON "budget"."ledger" ("project_id", "observed_at")`,
    );
    await queryRunner.query(`
      CREATE TABLE "budget"."threshold_firings" (
        "budget_id" uuid NOT NULL,
        "period_id" uuid NOT NULL,
        "threshold" double precision NOT NULL,
        "event_id" uuid NOT NULL,
        "fired_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_threshold_firings" PRIMARY KEY ("budget_id", "period_id", "threshold"),
        CONSTRAINT "fk_threshold_firings_budget" FOREIGN KEY ("budget_id")
          REFERENCES "budget"."budgets" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_threshold_firings_period" FOREIGN KEY ("period_id")
          REFERENCES "budget"."periods" ("id") ON DELETE CASCADE,
        CONSTRAINT "ck_threshold_firings_threshold" CHECK (threshold > 0 AND threshold <= 1)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "budget"."threshold_firings"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_ledger_project_observed_at"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_ledger_observed_at"`);
    await queryRunner.query(`DROP TABLE "budget"."ledger"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_reservations_expiry"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_reservations_runner_active"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_reservations_budget_active"`);
    await queryRunner.query(`DROP TABLE "budget"."reservations"`);
    await queryRunner.query(`DROP INDEX "budget"."ix_periods_open_end"`);
    await queryRunner.query(`DROP INDEX "budget"."uq_periods_open"`);
    await queryRunner.query(`DROP INDEX "budget"."uq_periods_start"`);
    await queryRunner.query(`DROP TABLE "budget"."periods"`);
    await queryRunner.query(`DROP INDEX "budget"."uq_budgets_scope_key"`);
    await queryRunner.query(`DROP TABLE "budget"."budgets"`);
  }
}
