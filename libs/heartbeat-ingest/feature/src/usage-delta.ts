import { type HeartbeatCounters } from '@stratavore/contracts';

export const COUNTER_NAMES = [
  'inputTokens',
  'outputTokens',
  'cacheCreationTokens',
  'cacheReadTokens',
] as const satisfies ReadonlyArray<keyof HeartbeatCounters>;

export type CounterName = (typeof COUNTER_NAMES)[number];

export interface UsageDelta {
  /** Usage since the last recorded counters; never negative. */
  readonly delta: HeartbeatCounters;
  /** The counters to record as the new base. */
  readonly base: HeartbeatCounters;
  /** Counters that went down (a reset of the agent's accounting). */
  readonly resets: readonly CounterName[];
}

/**
 * Usage between two cumulative reports: `current - last` per counter. A counter lower than its
 * last recorded value is a reset: it books nothing and the reported value becomes the new
 * base, so usage is never negative and never counted twice (what was used between the reset
 * and the report is lost, rather than risk double-counting a report that merely came late).
 */
export function computeUsageDelta(last: HeartbeatCounters, current: HeartbeatCounters): UsageDelta {
  const delta = { ...current };
  const resets: CounterName[] = [];
  for (const name of COUNTER_NAMES) {
    const diff = current[name] - last[name];
    if (diff < 0) {
      resets.push(name);
      delta[name] = 0;
    } else {
      delta[name] = diff;
    }
  }
  return { delta, base: { ...current }, resets };
}

/** True when the delta books something. */
export function hasUsage(delta: HeartbeatCounters): boolean {
  return COUNTER_NAMES.some((name) => delta[name] > 0);
}
