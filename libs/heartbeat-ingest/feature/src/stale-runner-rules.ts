import { type ActiveRunner } from '@stratavore/heartbeat-ingest-data-access';

export interface StaleRules {
  /** A runner is stale after this many intervals without a heartbeat (default 3). */
  readonly staleAfterIntervals: number;
  /**
   * After the detector starts acting, runners are not judged for this long, so a control-plane
   * restart does not fail runners whose heartbeats could not be received meanwhile. Default:
   * each runner's own stale window (`staleAfterIntervals` x its interval), and at least
   * {@link DEFAULT_MIN_GRACE_MS}: an agent that found the API down retries with a backoff of
   * up to 30 s, so its first heartbeat after the restart may take that long.
   */
  readonly graceMs?: number;
  /**
   * How long a runner that never reported may stay silent after its launch (default: its stale
   * window, and at least {@link DEFAULT_START_TIMEOUT_MS}): starting the agent and its command
   * on a loaded machine takes longer than an interval between two heartbeats.
   */
  readonly startTimeoutMs?: number;
  /** The brake applies from this many active runners on (default 3). */
  readonly massStaleMinActive: number;
}

export interface StaleRunner {
  readonly runner: ActiveRunner;
  readonly silentForMs: number;
}

export interface StaleJudgement {
  /** Stale runners not reported yet. */
  readonly toReport: readonly StaleRunner[];
  /** Every stale runner, reported or not. */
  readonly stale: readonly StaleRunner[];
  /** Runners skipped because the detector is still within its grace period. */
  readonly inGrace: number;
  readonly active: number;
  /** More than half of the active runners are stale: report none, raise one alert. */
  readonly massStale: boolean;
}

/** The least grace after the detector starts acting: the agent's backoff cap plus margin. */
export const DEFAULT_MIN_GRACE_MS = 45_000;
/** The least time a launched runner has to send its first heartbeat. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Whether one runner is stale at `now`; `null` when it is not (or is still in grace). */
export function staleness(
  runner: ActiveRunner,
  now: Date,
  actingSince: Date,
  rules: StaleRules,
): StaleRunner | 'in-grace' | null {
  const windowMs = rules.staleAfterIntervals * runner.intervalMs;
  const graceMs = rules.graceMs ?? Math.max(windowMs, DEFAULT_MIN_GRACE_MS);
  if (now.getTime() - actingSince.getTime() < graceMs) return 'in-grace';
  const lastSeen = runner.lastHeartbeatAt ?? runner.registeredAt;
  const silentForMs = Math.max(0, now.getTime() - lastSeen.getTime());
  const allowedMs =
    runner.lastHeartbeatAt === null
      ? (rules.startTimeoutMs ?? Math.max(windowMs, DEFAULT_START_TIMEOUT_MS))
      : windowMs;
  return silentForMs >= allowedMs ? { runner, silentForMs } : null;
}

/**
 * Judges every active runner: stale after `staleAfterIntervals` intervals of silence (counted
 * from its launch if it never reported), none while the detector is in its grace period, and
 * the brake: when more than half of at least `massStaleMinActive` active runners are stale at
 * once, the fault is more likely ours (network, database, ingest) than theirs.
 */
export function judgeStaleRunners(
  runners: readonly ActiveRunner[],
  now: Date,
  actingSince: Date,
  rules: StaleRules,
): StaleJudgement {
  const stale: StaleRunner[] = [];
  let inGrace = 0;
  for (const runner of runners) {
    const verdict = staleness(runner, now, actingSince, rules);
    if (verdict === 'in-grace') inGrace++;
    else if (verdict !== null) stale.push(verdict);
  }
  const active = runners.length;
  const massStale = active >= rules.massStaleMinActive && stale.length * 2 > active;
  return {
    stale,
    toReport: massStale ? [] : stale.filter((s) => s.runner.staleReportedAt === null),
    inGrace,
    active,
    massStale,
  };
}
