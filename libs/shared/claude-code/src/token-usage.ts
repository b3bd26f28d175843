/**
 * Tokens of one API response, or a sum of them, with every kind kept apart. Cache creation is
 * split by lifetime because the two are priced differently (1.25x and 2x the input rate).
 */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Written to the 5-minute prompt cache (the default lifetime). */
  readonly cacheCreation5mTokens: number;
  /** Written to the 1-hour prompt cache. */
  readonly cacheCreation1hTokens: number;
  readonly cacheReadTokens: number;
  /** Server-side web searches (`server_tool_use.web_search_requests`); priced per request. */
  readonly webSearchRequests: number;
}

/** Every kind of {@link TokenUsage}, in the order reports list them. */
export const TOKEN_USAGE_KINDS = [
  'inputTokens',
  'outputTokens',
  'cacheCreation5mTokens',
  'cacheCreation1hTokens',
  'cacheReadTokens',
  'webSearchRequests',
] as const satisfies ReadonlyArray<keyof TokenUsage>;

/** No usage at all. */
export const ZERO_TOKEN_USAGE: TokenUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreation5mTokens: 0,
  cacheCreation1hTokens: 0,
  cacheReadTokens: 0,
  webSearchRequests: 0,
});

function combine(
  a: TokenUsage,
  b: TokenUsage,
  operation: (x: number, y: number) => number,
): TokenUsage {
  return {
    inputTokens: operation(a.inputTokens, b.inputTokens),
    outputTokens: operation(a.outputTokens, b.outputTokens),
    cacheCreation5mTokens: operation(a.cacheCreation5mTokens, b.cacheCreation5mTokens),
    cacheCreation1hTokens: operation(a.cacheCreation1hTokens, b.cacheCreation1hTokens),
    cacheReadTokens: operation(a.cacheReadTokens, b.cacheReadTokens),
    webSearchRequests: operation(a.webSearchRequests, b.webSearchRequests),
  };
}

/** `a + b`, kind by kind. */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return combine(a, b, (x, y) => x + y);
}

/** `a - b`, kind by kind (may be negative: a difference, not a usage). */
export function subtractUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return combine(a, b, (x, y) => x - y);
}

/** The larger of `a` and `b`, kind by kind. */
export function maxUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return combine(a, b, Math.max);
}

/** All cache writes, whatever their lifetime. */
export function cacheCreationTokens(usage: TokenUsage): number {
  return usage.cacheCreation5mTokens + usage.cacheCreation1hTokens;
}

/**
 * Tokens the request sent: fresh input, cache writes and cache reads. The long-context price
 * tier applies to a request whose prompt is above 200,000 of these.
 */
export function promptTokens(usage: TokenUsage): number {
  return usage.inputTokens + cacheCreationTokens(usage) + usage.cacheReadTokens;
}

/**
 * Every token of a response (prompt and output; web searches are not tokens). The de-duplication
 * keeps the copy of a response with the largest total, as ccusage does.
 */
export function totalTokens(usage: TokenUsage): number {
  return promptTokens(usage) + usage.outputTokens;
}

/** True when no kind of `a` is below the same kind of `b`. */
export function coversUsage(a: TokenUsage, b: TokenUsage): boolean {
  return TOKEN_USAGE_KINDS.every((kind) => a[kind] >= b[kind]);
}

/** True when every kind is zero. */
export function isZeroUsage(usage: TokenUsage): boolean {
  return TOKEN_USAGE_KINDS.every((kind) => usage[kind] === 0);
}
