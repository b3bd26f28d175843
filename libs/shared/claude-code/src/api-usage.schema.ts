import { z } from 'zod';

import { type TokenUsage } from './token-usage';

const count = () => z.number().int().nonnegative();

/**
 * `message.usage` of an Anthropic Messages API response, as Claude Code writes it into
 * transcripts and stream-json events. Strict on the counts we add up, loose on everything else
 * (`service_tier`, `inference_geo`, `iterations`, `speed`, ... come and go between versions).
 */
export const apiUsageSchema = z.looseObject({
  input_tokens: count(),
  output_tokens: count(),
  cache_creation_input_tokens: count().nullish(),
  cache_read_input_tokens: count().nullish(),
  /** Cache writes by lifetime; absent in older versions (then everything is 5-minute). */
  cache_creation: z
    .looseObject({
      ephemeral_5m_input_tokens: count().nullish(),
      ephemeral_1h_input_tokens: count().nullish(),
    })
    .nullish(),
  server_tool_use: z
    .looseObject({
      web_search_requests: count().nullish(),
    })
    .nullish(),
});
export type ApiUsage = z.infer<typeof apiUsageSchema>;

/**
 * Converts the API's usage object to {@link TokenUsage}. The split of cache writes comes from
 * `cache_creation` when present; whatever `cache_creation_input_tokens` holds beyond the split is
 * counted as 5-minute writes (the default lifetime), so the total of cache writes is always
 * `cache_creation_input_tokens` (or the split's sum, whichever is larger).
 */
export function toTokenUsage(usage: ApiUsage): TokenUsage {
  const total = usage.cache_creation_input_tokens ?? 0;
  const split5m = usage.cache_creation?.ephemeral_5m_input_tokens ?? 0;
  const split1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const unsplit = Math.max(0, total - split5m - split1h);
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheCreation5mTokens: split5m + unsplit,
    cacheCreation1hTokens: split1h,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    webSearchRequests: usage.server_tool_use?.web_search_requests ?? 0,
  };
}

/** Cumulative counts of a streaming `message_delta`; any may be missing. */
export interface ApiDeltaUsage {
  readonly output_tokens?: number | null | undefined;
  readonly input_tokens?: number | null | undefined;
  readonly cache_creation_input_tokens?: number | null | undefined;
  readonly cache_read_input_tokens?: number | null | undefined;
  readonly server_tool_use?: { readonly web_search_requests?: number | null | undefined } | null;
}

/**
 * A response's usage after a `message_delta`: the delta's counts are cumulative for the whole
 * response and replace the started ones; a count it leaves out keeps its started value. New
 * cache writes beyond the started split are counted as 5-minute writes.
 */
export function applyDeltaUsage(started: TokenUsage, delta: ApiDeltaUsage): TokenUsage {
  const cacheCreation = delta.cache_creation_input_tokens;
  const started1h = started.cacheCreation1hTokens;
  return {
    inputTokens: delta.input_tokens ?? started.inputTokens,
    outputTokens: delta.output_tokens ?? started.outputTokens,
    cacheCreation5mTokens:
      cacheCreation === null || cacheCreation === undefined
        ? started.cacheCreation5mTokens
        : Math.max(0, cacheCreation - started1h),
    cacheCreation1hTokens:
      cacheCreation === null || cacheCreation === undefined
        ? started1h
        : Math.min(started1h, cacheCreation),
    cacheReadTokens: delta.cache_read_input_tokens ?? started.cacheReadTokens,
    webSearchRequests: delta.server_tool_use?.web_search_requests ?? started.webSearchRequests,
  };
}
