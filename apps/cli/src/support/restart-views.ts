import { type RunnerReply } from '@stratavore/contracts';

/** True when some runner has a restart policy or replaces another: the table shows RESTARTS. */
export function showsRestarts(runners: readonly RunnerReply[]): boolean {
  return runners.some(
    (runner) => runner.restartPolicy === 'on-failure' || (runner.restartOf ?? null) !== null,
  );
}

/** `in 45s`, `in 12m`, `in 3h`, `now`. */
function formatUntil(timestamp: string, nowMs: number): string {
  const seconds = Math.round((Date.parse(timestamp) - nowMs) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds}s`;
  if (seconds < 3600) return `in ${Math.round(seconds / 60)}m`;
  return `in ${Math.round(seconds / 3600)}h`;
}

/**
 * The RESTARTS cell: restarts so far of the allowed (`1/3`), and what comes next: `next in 30s`
 * (scheduled; `at reset` for a usage limit), `-> 1a2b3c4d` (the replacement), or why not.
 */
export function formatRestarts(runner: RunnerReply, nowMs: number): string {
  const policy = runner.restartPolicy ?? 'no';
  const base = policy === 'on-failure' ? `${runner.restarts ?? 0}/${runner.maxRestarts ?? 0}` : '-';
  const plan = runner.restart ?? null;
  if (plan === null) return base;
  switch (plan.state) {
    case 'scheduled':
      return `${base} next ${formatUntil(plan.at, nowMs)}${plan.reason === 'usage_limit' ? ' (usage limit)' : ''}`;
    case 'launched':
    case 'queued':
      return `${base} -> ${(plan.replacementId ?? '?').slice(0, 8)}${plan.state === 'queued' ? ' (queued)' : ''}`;
    case 'cancelled':
    case 'failed':
      return `${base} ${plan.state}`;
  }
}
