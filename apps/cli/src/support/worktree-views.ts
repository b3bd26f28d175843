import { type RunnerWorktreeReply, type WorktreeReply } from '@stratavore/contracts';

import { formatAge, paintState } from './runner-views';
import { type Paint, renderTable, type TableColumn } from './terminal-output';

/** `clean`, `3 changes`, `missing`, `removed`, `?` (not inspectable from here). */
export function formatTree(worktree: WorktreeReply): string {
  if (worktree.removedAt !== null) return 'removed';
  const status = worktree.status;
  if (status === null) return '?';
  if (!status.exists) return 'missing';
  if (status.changes === 0) return 'clean';
  return `${status.changes} change${status.changes === 1 ? '' : 's'}`;
}

/** `+2` commits ahead of the base, `+2 (1 unmerged)`, `0`, `-` when unknown. */
export function formatAhead(worktree: WorktreeReply): string {
  const status = worktree.status;
  if (status === null) return '-';
  if (!status.branchExists) return 'no branch';
  if (status.ahead === 0) return '0';
  return status.unmerged > 0
    ? `+${status.ahead} (${status.unmerged} unmerged)`
    : `+${status.ahead} (merged)`;
}

/** The runner's state, and who else works in the worktree now. */
function formatState(worktree: WorktreeReply, paint: Paint): string {
  const state = paintState(worktree.runnerState, paint);
  const others = worktree.activeRunners.filter((runner) => runner.id !== worktree.runnerId);
  return others.length === 0
    ? state
    : `${state} (in use by ${others.map((r) => r.id.slice(0, 8)).join(', ')})`;
}

/** The table of `worktrees`. */
export function renderWorktreesTable(
  worktrees: readonly WorktreeReply[],
  paint: Paint,
  nowMs: number,
): string {
  const columns: TableColumn<WorktreeReply>[] = [
    { header: 'RUNNER', value: (w) => w.runnerId },
    { header: 'PROJECT', value: (w) => w.project.name, maxWidth: 24 },
    { header: 'STATE', value: (w) => formatState(w, paint) },
    { header: 'BRANCH', value: (w) => w.branch },
    { header: 'TREE', value: (w) => formatTree(w) },
    { header: 'AHEAD', value: (w) => formatAhead(w), align: 'right' },
    { header: 'CREATED', value: (w) => formatAge(w.createdAt, nowMs) },
    { header: 'PATH', value: (w) => w.path },
  ];
  return renderTable(columns, worktrees, paint);
}

/** Why some rows show `?`: the notes of worktrees git could not be asked about. */
export function statusNotes(worktrees: readonly WorktreeReply[]): string[] {
  return worktrees
    .filter((w) => w.removedAt === null && w.status === null && w.statusNote !== null)
    .map((w) => `${w.runnerId}: ${w.statusNote ?? ''}`);
}

/** `/data/worktrees/web/<id> (branch stratavore/<id> from 1a2b3c4d)`. */
export function describeRunnerWorktree(worktree: RunnerWorktreeReply): string {
  return `${worktree.path} (branch ${worktree.branch} from ${worktree.baseCommit.slice(0, 8)})`;
}
