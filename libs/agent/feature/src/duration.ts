/**
 * Durations as `@stratavore/config`'s `duration()` reads them (`500ms`, `10s`, `5m`, `1h`, or a
 * number of milliseconds), without zod: the agent parses its flags and environment before its
 * first heartbeat, and loading zod then costs ~40 ms of CPU (docs/benchmarks.md, "launch").
 */
const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Milliseconds, or null when `text` is not a duration. */
export function parseDurationMs(text: string): number | null {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return null;
  const unit = (match[2] ?? 'ms') as keyof typeof DURATION_UNITS_MS;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[unit]);
}
