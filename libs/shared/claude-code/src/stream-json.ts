import { z } from 'zod';

import { type ApiResponseCopy } from './api-response';
import { apiUsageSchema, toTokenUsage } from './api-usage.schema';
import { contentTexts, describeIssues, readJsonObject } from './json-line';

const count = () => z.number().int().nonnegative();

/**
 * `{"type":"system","subtype":"init",...}`: the first event of `claude -p --output-format
 * stream-json --verbose`, naming the session and the model.
 */
export const streamInitEventSchema = z.looseObject({
  type: z.literal('system'),
  subtype: z.literal('init'),
  session_id: z.string().min(1),
  model: z.string().min(1).nullish(),
  cwd: z.string().nullish(),
  claude_code_version: z.string().nullish(),
  permissionMode: z.string().nullish(),
});
export type StreamInitEvent = z.infer<typeof streamInitEventSchema>;

/** One content block of an API response (stream-json writes one event per block). */
export const streamAssistantEventSchema = z.looseObject({
  type: z.literal('assistant'),
  message: z.looseObject({
    id: z.string().min(1).nullish(),
    model: z.string().min(1).nullish(),
    usage: apiUsageSchema,
    content: z.unknown().optional(),
  }),
  /** Set when a subagent (Task tool) produced the message. */
  parent_tool_use_id: z.string().nullish(),
  session_id: z.string().min(1).nullish(),
  uuid: z.string().min(1).nullish(),
});
export type StreamAssistantEvent = z.infer<typeof streamAssistantEventSchema>;

/** Result subtypes Claude Code documents; others are kept as given. */
export const RESULT_SUBTYPES = [
  'success',
  'error_max_turns',
  'error_max_budget_usd',
  'error_during_execution',
] as const;
export type KnownResultSubtype = (typeof RESULT_SUBTYPES)[number];

/**
 * The last event: outcome, turns, cost and Claude Code's own usage totals. `usage` and
 * `modelUsage` are read separately (see `readResultUsage`) so that an unexpected shape there
 * does not lose the outcome.
 */
export const streamResultEventSchema = z.looseObject({
  type: z.literal('result'),
  subtype: z.string().min(1).nullish(),
  is_error: z.boolean().nullish(),
  num_turns: count().nullish(),
  total_cost_usd: z.number().nonnegative().nullish(),
  duration_ms: z.number().nonnegative().nullish(),
  duration_api_ms: z.number().nonnegative().nullish(),
  session_id: z.string().min(1).nullish(),
  result: z.string().nullish(),
  stop_reason: z.string().nullish(),
  usage: z.unknown().optional(),
  modelUsage: z.unknown().optional(),
  permission_denials: z.array(z.unknown()).nullish(),
});
export type StreamResultEvent = z.infer<typeof streamResultEventSchema>;

/** One entry of `result.modelUsage`: Claude Code's own total for one model. */
export const resultModelUsageEntrySchema = z.looseObject({
  inputTokens: count(),
  outputTokens: count(),
  cacheReadInputTokens: count().nullish(),
  cacheCreationInputTokens: count().nullish(),
  webSearchRequests: count().nullish(),
  costUSD: z.number().nonnegative().nullish(),
  contextWindow: count().nullish(),
  maxOutputTokens: count().nullish(),
});
export const resultModelUsageSchema = z.record(z.string().min(1), resultModelUsageEntrySchema);
export type ModelUsageEntry = z.infer<typeof resultModelUsageEntrySchema>;

/** `rate_limit_event`: the subscription's rate-limit state; `rejected` means the run is blocked. */
export const streamRateLimitEventSchema = z.looseObject({
  type: z.literal('rate_limit_event'),
  rate_limit_info: z.looseObject({
    status: z.string().min(1),
    /** Epoch seconds. */
    resetsAt: z.number().nonnegative().nullish(),
    rateLimitType: z.string().nullish(),
    utilization: z.number().nullish(),
  }),
  session_id: z.string().nullish(),
});
export type StreamRateLimitEvent = z.infer<typeof streamRateLimitEventSchema>;

/**
 * `stream_event` (only with `--include-partial-messages`): a raw Messages API streaming event.
 * `message_start` opens a response with its prompt usage; `message_delta` carries the final
 * `output_tokens` (which the `assistant` events, written per content block, may not have yet).
 */
export const streamPartialEventSchema = z.looseObject({
  type: z.literal('stream_event'),
  event: z.looseObject({ type: z.string().min(1) }),
  parent_tool_use_id: z.string().nullish(),
  session_id: z.string().min(1).nullish(),
  uuid: z.string().min(1).nullish(),
});

const messageStartSchema = z.looseObject({
  type: z.literal('message_start'),
  message: z.looseObject({
    id: z.string().min(1).nullish(),
    model: z.string().min(1).nullish(),
    usage: apiUsageSchema,
  }),
});

/** Usage of a `message_delta`: cumulative counts, any of which may be missing. */
export const deltaUsageSchema = z.looseObject({
  output_tokens: count().nullish(),
  input_tokens: count().nullish(),
  cache_creation_input_tokens: count().nullish(),
  cache_read_input_tokens: count().nullish(),
  server_tool_use: z.looseObject({ web_search_requests: count().nullish() }).nullish(),
});
export type DeltaUsage = z.infer<typeof deltaUsageSchema>;

const messageDeltaSchema = z.looseObject({
  type: z.literal('message_delta'),
  usage: deltaUsageSchema,
});

/** What one stream-json line holds. */
export type StreamJsonLineRead =
  | { readonly kind: 'blank' }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** `user`, `stream_event`, other `system` subtypes, `conversation_reset`, ...: not used. */
  | { readonly kind: 'ignored'; readonly type: string }
  | { readonly kind: 'init'; readonly event: StreamInitEvent }
  | {
      readonly kind: 'assistant';
      readonly response: ApiResponseCopy;
      readonly texts: readonly string[];
    }
  | { readonly kind: 'result'; readonly event: StreamResultEvent }
  | { readonly kind: 'rate-limit'; readonly event: StreamRateLimitEvent }
  /** A partial `message_start`: the response's first copy (output not final yet). */
  | {
      readonly kind: 'message-start';
      readonly response: ApiResponseCopy;
      /** Which stream the response belongs to: '' for the main loop, else the parent tool use. */
      readonly stream: string;
    }
  /** A partial `message_delta`: final counts of the response last started on `stream`. */
  | { readonly kind: 'message-delta'; readonly usage: DeltaUsage; readonly stream: string };

/** Reads one line of `claude -p --output-format stream-json --verbose`. Never throws. */
export function readStreamJsonLine(text: string): StreamJsonLineRead {
  if (text.trim() === '') return { kind: 'blank' };
  const json = readJsonObject(text);
  if (!json.ok) return { kind: 'malformed', reason: json.reason };
  const { type, subtype } = json.value;
  switch (type) {
    case 'system': {
      if (subtype !== 'init') return { kind: 'ignored', type: `system/${String(subtype)}` };
      const parsed = streamInitEventSchema.safeParse(json.value);
      return parsed.success
        ? { kind: 'init', event: parsed.data }
        : { kind: 'malformed', reason: `system/init: ${describeIssues(parsed.error)}` };
    }
    case 'assistant': {
      const parsed = streamAssistantEventSchema.safeParse(json.value);
      if (!parsed.success) {
        return { kind: 'malformed', reason: `assistant: ${describeIssues(parsed.error)}` };
      }
      const event = parsed.data;
      return {
        kind: 'assistant',
        response: {
          messageId: event.message.id ?? null,
          requestId: null,
          model: event.message.model ?? null,
          usage: toTokenUsage(event.message.usage),
          sidechain: typeof event.parent_tool_use_id === 'string',
          agentId: null,
          sessionId: event.session_id ?? null,
          timestamp: null,
          lineId: event.uuid ?? null,
        },
        texts: contentTexts(event.message.content),
      };
    }
    case 'result': {
      const parsed = streamResultEventSchema.safeParse(json.value);
      return parsed.success
        ? { kind: 'result', event: parsed.data }
        : { kind: 'malformed', reason: `result: ${describeIssues(parsed.error)}` };
    }
    case 'rate_limit_event': {
      const parsed = streamRateLimitEventSchema.safeParse(json.value);
      return parsed.success
        ? { kind: 'rate-limit', event: parsed.data }
        : { kind: 'malformed', reason: `rate_limit_event: ${describeIssues(parsed.error)}` };
    }
    case 'stream_event':
      return readPartialEvent(json.value);
    default:
      return { kind: 'ignored', type: typeof type === 'string' ? type : '(none)' };
  }
}

function readPartialEvent(value: Record<string, unknown>): StreamJsonLineRead {
  const parsed = streamPartialEventSchema.safeParse(value);
  if (!parsed.success) {
    return { kind: 'malformed', reason: `stream_event: ${describeIssues(parsed.error)}` };
  }
  const { event, parent_tool_use_id: parent } = parsed.data;
  const stream = parent ?? '';
  switch (event.type) {
    case 'message_start': {
      const start = messageStartSchema.safeParse(event);
      if (!start.success) {
        return {
          kind: 'malformed',
          reason: `stream_event/message_start: ${describeIssues(start.error)}`,
        };
      }
      const { message } = start.data;
      return {
        kind: 'message-start',
        stream,
        response: {
          messageId: message.id ?? null,
          requestId: null,
          model: message.model ?? null,
          usage: toTokenUsage(message.usage),
          sidechain: parent !== null && parent !== undefined,
          agentId: null,
          sessionId: parsed.data.session_id ?? null,
          timestamp: null,
          lineId: parsed.data.uuid ?? null,
        },
      };
    }
    case 'message_delta': {
      const delta = messageDeltaSchema.safeParse(event);
      return delta.success
        ? { kind: 'message-delta', stream, usage: delta.data.usage }
        : {
            kind: 'malformed',
            reason: `stream_event/message_delta: ${describeIssues(delta.error)}`,
          };
    }
    default:
      return { kind: 'ignored', type: `stream_event/${event.type}` };
  }
}

/** `result.usage` read on its own; null when absent, an error message when unreadable. */
export function readResultUsage(event: StreamResultEvent): {
  readonly usage: ReturnType<typeof toTokenUsage> | null;
  readonly issue: string | null;
} {
  if (event.usage === undefined || event.usage === null) return { usage: null, issue: null };
  const parsed = apiUsageSchema.safeParse(event.usage);
  return parsed.success
    ? { usage: toTokenUsage(parsed.data), issue: null }
    : { usage: null, issue: `result.usage: ${describeIssues(parsed.error)}` };
}

/** `result.modelUsage` read on its own; null when absent, an error message when unreadable. */
export function readResultModelUsage(event: StreamResultEvent): {
  readonly modelUsage: Readonly<Record<string, ModelUsageEntry>> | null;
  readonly issue: string | null;
} {
  if (event.modelUsage === undefined || event.modelUsage === null) {
    return { modelUsage: null, issue: null };
  }
  const parsed = resultModelUsageSchema.safeParse(event.modelUsage);
  return parsed.success
    ? { modelUsage: parsed.data, issue: null }
    : { modelUsage: null, issue: `result.modelUsage: ${describeIssues(parsed.error)}` };
}
