/**
 * "Full jitter" exponential backoff: a delay drawn uniformly from `[0, min(cap, base * 2^(n-1)))`
 * for the n-th consecutive failure, so a fleet of agents spreads its retries after an outage.
 */
export function fullJitterDelay(
  failures: number,
  options: { readonly baseMs: number; readonly capMs: number },
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
