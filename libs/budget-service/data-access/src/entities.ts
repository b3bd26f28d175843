import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { BUDGET_SCHEMA } from './budget-schema';

// The entities mirror migrations 1764500000000 and 1764800000000 (the migrations are the truth;
// never synchronized).
// bigint columns are read as strings and converted by the store.

/** `budget.budgets`: one per scope. */
@Entity({ name: 'budgets', schema: BUDGET_SCHEMA })
@Index('uq_budgets_scope_key', ['scopeKey'], { unique: true })
export class BudgetEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_budgets' })
  id!: string;

  @Column({ name: 'scope_key', type: 'text' })
  scopeKey!: string;

  @Column({ type: 'jsonb' })
  scope!: Record<string, unknown>;

  @Column({ name: 'limit_tokens', type: 'bigint', nullable: true })
  limitTokens!: string | null;

  @Column({ name: 'limit_usd_micros', type: 'bigint', nullable: true })
  limitUsdMicros!: string | null;

  @Column({ name: 'token_kinds', type: 'text', array: true })
  tokenKinds!: string[];

  @Column({ type: 'text' })
  period!: string;

  @Column({ name: 'time_zone', type: 'text' })
  timeZone!: string;

  @Column({ name: 'week_starts_on', type: 'smallint' })
  weekStartsOn!: number;

  @Column({ name: 'month_day', type: 'smallint' })
  monthDay!: number;

  @Column({ name: 'time_of_day', type: 'text' })
  timeOfDay!: string;

  @Column({ name: 'warn_thresholds', type: 'double precision', array: true })
  warnThresholds!: number[];

  @Column({ name: 'rollover_enabled', type: 'boolean' })
  rolloverEnabled!: boolean;

  @Column({ name: 'rollover_cap_tokens', type: 'bigint', nullable: true })
  rolloverCapTokens!: string | null;

  @Column({ name: 'rollover_cap_usd_micros', type: 'bigint', nullable: true })
  rolloverCapUsdMicros!: string | null;

  @Column({ type: 'text' })
  enforcement!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** `budget.periods`: one row per budget per period, with the limits and carry-over it had. */
@Entity({ name: 'periods', schema: BUDGET_SCHEMA })
@Index('uq_periods_start', ['budgetId', 'startsAt'], { unique: true })
@Index('uq_periods_open', ['budgetId'], { unique: true, where: 'closed_at IS NULL' })
@Index('ix_periods_open_end', ['endsAt'], { where: 'closed_at IS NULL AND ends_at IS NOT NULL' })
export class PeriodEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_periods' })
  id!: string;

  @Column({ name: 'budget_id', type: 'uuid' })
  budgetId!: string;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt!: Date;

  @Column({ name: 'ends_at', type: 'timestamptz', nullable: true })
  endsAt!: Date | null;

  @Column({ name: 'limit_tokens', type: 'bigint', nullable: true })
  limitTokens!: string | null;

  @Column({ name: 'limit_usd_micros', type: 'bigint', nullable: true })
  limitUsdMicros!: string | null;

  @Column({ name: 'carry_tokens', type: 'bigint', default: 0 })
  carryTokens!: string;

  @Column({ name: 'carry_usd_micros', type: 'bigint', default: 0 })
  carryUsdMicros!: string;

  @Column({ name: 'used_input', type: 'bigint', default: 0 })
  usedInput!: string;

  @Column({ name: 'used_output', type: 'bigint', default: 0 })
  usedOutput!: string;

  @Column({ name: 'used_cache_creation', type: 'bigint', default: 0 })
  usedCacheCreation!: string;

  @Column({ name: 'used_cache_read', type: 'bigint', default: 0 })
  usedCacheRead!: string;

  @Column({ name: 'used_usd_micros', type: 'bigint', default: 0 })
  usedUsdMicros!: string;

  /** Started by a change of period rule (counting from the change), not by the calendar. */
  @Column({ type: 'boolean', default: false })
  rebaselined!: boolean;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;
}

/** `budget.reservations`: what one budget holds for one launch. */
@Entity({ name: 'reservations', schema: BUDGET_SCHEMA })
@Index('ix_reservations_budget_active', ['budgetId', 'expiresAt'], {
  where: 'released_at IS NULL',
})
@Index('ix_reservations_runner_active', ['runnerId'], { where: 'released_at IS NULL' })
@Index('ix_reservations_expiry', ['expiresAt'], { where: 'released_at IS NULL' })
export class ReservationEntity {
  @PrimaryColumn({
    name: 'reservation_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_reservations',
  })
  reservationId!: string;

  @PrimaryColumn({ name: 'budget_id', type: 'uuid', primaryKeyConstraintName: 'pk_reservations' })
  budgetId!: string;

  @Column({ name: 'runner_id', type: 'uuid' })
  runnerId!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ name: 'estimate_tokens', type: 'bigint' })
  estimateTokens!: string;

  @Column({ name: 'estimate_usd_micros', type: 'bigint' })
  estimateUsdMicros!: string;

  @Column({ name: 'remaining_tokens', type: 'bigint' })
  remainingTokens!: string;

  @Column({ name: 'remaining_usd_micros', type: 'bigint' })
  remainingUsdMicros!: string;

  @Column({ name: 'ttl_ms', type: 'integer' })
  ttlMs!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt!: Date | null;

  @Column({ name: 'release_reason', type: 'text', nullable: true })
  releaseReason!: string | null;
}

/** `budget.ledger`: one row per `usage.reported` event, keyed by its id. */
@Entity({ name: 'ledger', schema: BUDGET_SCHEMA })
@Index('ix_ledger_observed_at', ['observedAt'])
@Index('ix_ledger_project_observed_at', ['projectId', 'observedAt'])
export class LedgerEntity {
  @PrimaryColumn({ name: 'event_id', type: 'uuid', primaryKeyConstraintName: 'pk_ledger' })
  eventId!: string;

  @Column({ name: 'runner_id', type: 'uuid' })
  runnerId!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;

  @Column({ type: 'text', nullable: true })
  model!: string | null;

  @Column({ name: 'input_tokens', type: 'bigint' })
  inputTokens!: string;

  @Column({ name: 'output_tokens', type: 'bigint' })
  outputTokens!: string;

  @Column({ name: 'cache_creation_tokens', type: 'bigint' })
  cacheCreationTokens!: string;

  @Column({ name: 'cache_read_tokens', type: 'bigint' })
  cacheReadTokens!: string;

  @Column({ name: 'usd_micros', type: 'bigint', nullable: true })
  usdMicros!: string | null;

  @Column({ name: 'observed_at', type: 'timestamptz' })
  observedAt!: Date;

  @Column({ name: 'booked_at', type: 'timestamptz' })
  bookedAt!: Date;
}

/** `budget.threshold_firings`: a threshold (1 = exceeded) that fired in a period. */
@Entity({ name: 'threshold_firings', schema: BUDGET_SCHEMA })
export class ThresholdFiringEntity {
  @PrimaryColumn({
    name: 'budget_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_threshold_firings',
  })
  budgetId!: string;

  @PrimaryColumn({
    name: 'period_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_threshold_firings',
  })
  periodId!: string;

  @PrimaryColumn({
    type: 'double precision',
    primaryKeyConstraintName: 'pk_threshold_firings',
  })
  threshold!: number;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'fired_at', type: 'timestamptz' })
  firedAt!: Date;
}

/** `budget.runner_overruns`: a runner that spent into a hard budget past its limit, per period. */
@Entity({ name: 'runner_overruns', schema: BUDGET_SCHEMA })
@Index('ix_runner_overruns_period', ['periodId'])
export class RunnerOverrunEntity {
  @PrimaryColumn({
    name: 'budget_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_runner_overruns',
  })
  budgetId!: string;

  @PrimaryColumn({
    name: 'period_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_runner_overruns',
  })
  periodId!: string;

  @PrimaryColumn({
    name: 'runner_id',
    type: 'uuid',
    primaryKeyConstraintName: 'pk_runner_overruns',
  })
  runnerId!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'fired_at', type: 'timestamptz' })
  firedAt!: Date;
}

export const budgetEntities = [
  BudgetEntity,
  PeriodEntity,
  ReservationEntity,
  LedgerEntity,
  ThresholdFiringEntity,
  RunnerOverrunEntity,
];
