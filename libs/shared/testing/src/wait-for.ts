export interface WaitForOptions {
  /** Give up after this long. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 50 ms. */
  readonly intervalMs?: number;
  /** What is awaited, for the failure message (`the runner to be marked failed`). */
  readonly description?: string;
}

/**
 * Polls `probe` until it returns (or resolves to) something other than `false`, `null` or
 * `undefined`, and returns that value. A probe that throws counts as "not yet", so expect-style
 * assertions work when they end with `return true`. Fails after `timeoutMs` with the
 * description and the last value or error seen.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | null | undefined>> {
  const { timeoutMs = 5_000, intervalMs = 50, description = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | undefined;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const value = await probe();
      if (value !== false && value !== null && value !== undefined) {
        return value as Exclude<T, false | null | undefined>;
      }
      last = { kind: 'value', value };
    } catch (error) {
      last = { kind: 'error', error };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
  const seen =
    last?.kind === 'error'
      ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`
      : `last value: ${describeValue(last?.value)}`;
  throw new Error(
    `Timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${description}; ${seen}`,
  );
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
