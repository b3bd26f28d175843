// Watches the committed reserved sum of budgets while a load runs (not exported).
import { type SqlRunner } from './budget-service.int-test-support';

export interface SampleReport {
  readonly count: number;
  /** `{ budgetId, reserved, limit }` for every sample that saw a budget above its limit. */
  readonly violations: Array<{ budgetId: string; reserved: number; limit: number }>;
}

/**
 * Reads `used + sum(holding reservations)` of each budget, one statement per sample (one
 * snapshot of what is committed), as fast as the database answers until stopped, and records
 * every sample above a limit.
 */
export class ReservedSampler {
  private running = false;
  private count = 0;
  private readonly violations: SampleReport['violations'] = [];

  constructor(
    private readonly sql: SqlRunner,
    private readonly limits: ReadonlyMap<string, number>,
  ) {}

  /** One snapshot: budget id -> used + reserved tokens. */
  async sample(): Promise<Map<string, number>> {
    const rows = await this.sql.query<Array<{ budget_id: string; held: string }>>(
      `SELECT b.id AS budget_id,
         coalesce((SELECT sum(r.remaining_tokens) FROM budget.reservations r
                   WHERE r.budget_id = b.id AND r.released_at IS NULL AND r.expires_at > now()), 0)
         + coalesce((SELECT p.used_input + p.used_output + p.used_cache_creation + p.used_cache_read
                     FROM budget.periods p WHERE p.budget_id = b.id AND p.closed_at IS NULL), 0)
           AS held
       FROM budget.budgets b WHERE b.id = ANY($1::uuid[])`,
      [[...this.limits.keys()]],
    );
    return new Map(rows.map((row) => [row.budget_id, Number(row.held)]));
  }

  /** Samples until {@link stop}; await the returned promise through `stop`. */
  async run(): Promise<void> {
    this.running = true;
    while (this.running) {
      const held = await this.sample();
      this.count++;
      for (const [budgetId, reserved] of held) {
        const limit = this.limits.get(budgetId) ?? Number.POSITIVE_INFINITY;
        if (reserved > limit) this.violations.push({ budgetId, reserved, limit });
      }
    }
  }

  async stop(running: Promise<void>): Promise<SampleReport> {
    this.running = false;
    await running;
    return { count: this.count, violations: [...this.violations] };
  }
}
