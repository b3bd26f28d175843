import { type StratavoreApiClient } from '@stratavore/api-client';
import { type BudgetView, type UsageDay, type UsageTotals } from '@stratavore/contracts';

import { formatCount } from './runner-views';
import { type Paint, renderTable } from './terminal-output';

/** Project ids to names, for scopes and usage rows. */
export type ProjectNames = ReadonlyMap<string, string>;

type Amount = { readonly tokens: number | null; readonly usd: number | null };

/** `$25.00`, `$0.1234` (small amounts keep their digits). */
export function formatUsd(value: number): string {
  return value !== 0 && Math.abs(value) < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** `global`, `project web-app` (the id when the name is unknown). */
export function describeScope(view: Pick<BudgetView, 'scope'>, names: ProjectNames): string {
  return view.scope.kind === 'global'
    ? 'global'
    : `project ${names.get(view.scope.projectId) ?? view.scope.projectId}`;
}

/**
 * An amount in the dimensions the budget limits: `1.0M tok`, `$25.00`, `1.0M tok / $25.00`;
 * `-` for a dimension with no value.
 */
function formatAmount(budget: BudgetView, amount: Amount): string {
  const parts: string[] = [];
  if (budget.limits.tokens !== null) {
    parts.push(amount.tokens === null ? '-' : `${formatCount(amount.tokens)} tok`);
  }
  if (budget.limits.usd !== null) {
    parts.push(amount.usd === null ? '-' : formatUsd(amount.usd));
  }
  return parts.join(' / ');
}

/** `2026-11-25 00:00 UTC`; `-` for a period that never ends. */
export function formatPeriodEnd(periodEnd: string | null): string {
  if (periodEnd === null) return '-';
  return `${periodEnd.slice(0, 10)} ${periodEnd.slice(11, 16)} UTC`;
}

function paintStatus(status: BudgetView['status'], paint: Paint): string {
  switch (status) {
    case 'ok':
      return paint('green', status);
    case 'warning':
      return paint('yellow', status);
    case 'exceeded':
      return paint('red', status);
  }
}

/** The budgets table of `budgets` and `budgets usage`. */
export function renderBudgetsTable(
  budgets: readonly BudgetView[],
  names: ProjectNames,
  paint: Paint,
): string {
  return renderTable<BudgetView>(
    [
      { header: 'SCOPE', value: (b) => describeScope(b, names), maxWidth: 40 },
      { header: 'PERIOD', value: (b) => b.period },
      {
        header: 'LIMIT',
        value: (b) =>
          formatAmount(b, {
            tokens: b.limits.tokens === null ? null : b.limits.tokens + b.carryOver.tokens,
            usd: b.limits.usd === null ? null : b.limits.usd + b.carryOver.usd,
          }),
        align: 'right',
      },
      { header: 'USED', value: (b) => formatAmount(b, b.used), align: 'right' },
      { header: 'RESERVED', value: (b) => formatAmount(b, b.reserved), align: 'right' },
      { header: 'LEFT', value: (b) => formatAmount(b, b.left), align: 'right' },
      { header: 'PERIOD END', value: (b) => formatPeriodEnd(b.periodEnd) },
      { header: 'STATUS', value: (b) => paintStatus(b.status, paint) },
      { header: 'ENFORCE', value: (b) => b.enforcement },
    ],
    budgets,
    paint,
  );
}

/** Usage per local day and project, then the totals. */
export function renderUsageDays(
  days: readonly UsageDay[],
  totals: UsageTotals,
  names: ProjectNames,
  paint: Paint,
): string {
  const total = { ...totals, day: 'total', projectId: '' };
  return renderTable<UsageTotals & { day: string; projectId: string }>(
    [
      { header: 'DAY', value: (d) => (d.day === 'total' ? paint('bold', d.day) : d.day) },
      { header: 'PROJECT', value: (d) => names.get(d.projectId) ?? d.projectId, maxWidth: 30 },
      { header: 'INPUT', value: (d) => formatCount(d.inputTokens), align: 'right' },
      { header: 'OUTPUT', value: (d) => formatCount(d.outputTokens), align: 'right' },
      { header: 'CACHE W', value: (d) => formatCount(d.cacheCreationTokens), align: 'right' },
      { header: 'CACHE R', value: (d) => formatCount(d.cacheReadTokens), align: 'right' },
      { header: 'TOTAL', value: (d) => formatCount(d.totalTokens), align: 'right' },
      { header: 'COST', value: (d) => formatUsd(d.costUsd), align: 'right' },
    ],
    [...days, total],
    paint,
  );
}

/** The names of the projects `ids` (archived ones too); no request when there are none. */
export async function loadProjectNames(
  client: Pick<StratavoreApiClient, 'listProjects'>,
  ids: Iterable<string>,
): Promise<ProjectNames> {
  const wanted = new Set(ids);
  if (wanted.size === 0) return new Map();
  const { projects } = await client.listProjects({ includeArchived: true });
  return new Map(projects.filter((p) => wanted.has(p.id)).map((p) => [p.id, p.name]));
}

/** The project ids budgets are scoped to. */
export function scopedProjectIds(budgets: readonly BudgetView[]): string[] {
  return budgets.flatMap((b) => (b.scope.kind === 'project' ? [b.scope.projectId] : []));
}

/** The budgets section of `usage`: each budget in its current period, or that there are none. */
export function renderBudgetSection(
  budgets: readonly BudgetView[],
  names: ProjectNames,
  paint: Paint,
): string {
  if (budgets.length === 0) return 'No budgets: spending is unlimited.';
  return `Budgets (current periods)\n${renderBudgetsTable(budgets, names, paint)}`;
}
