import { z } from 'zod';

import { type ApiResponseCopy } from './api-response';
import { apiUsageSchema, toTokenUsage } from './api-usage.schema';
import { contentTexts, describeIssues, readJsonObject } from './json-line';

/**
 * An assistant line of a transcript (`~/.claude/projects/<encoded-cwd>/<sessionId>.jsonl`).
 * Only the fields the accounting relies on are checked; Claude Code adds fields every release.
 * ccusage's fixtures have no `type` and are recognised by their `message.usage`.
 */
export const transcriptAssistantLineSchema = z.looseObject({
  type: z.literal('assistant').optional(),
  message: z.looseObject({
    id: z.string().min(1).nullish(),
    model: z.string().min(1).nullish(),
    usage: apiUsageSchema,
    content: z.unknown().optional(),
  }),
  requestId: z.string().min(1).nullish(),
  isSidechain: z.boolean().nullish(),
  agentId: z.string().min(1).nullish(),
  sessionId: z.string().min(1).nullish(),
  timestamp: z.string().nullish(),
  uuid: z.string().min(1).nullish(),
  /** Set on the synthetic message Claude Code writes for an API error (usage limit, ...). */
  isApiErrorMessage: z.boolean().nullish(),
});
export type TranscriptAssistantLine = z.infer<typeof transcriptAssistantLineSchema>;

/** What one transcript line holds for the accounting. */
export type TranscriptLineRead =
  | { readonly kind: 'blank' }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** Any other line type (`user`, `system`, `progress`, `summary`, ...): nothing to count. */
  | { readonly kind: 'ignored'; readonly type: string }
  | {
      readonly kind: 'response';
      readonly response: ApiResponseCopy;
      /** The message's text blocks (the usage-limit notice is one). */
      readonly texts: readonly string[];
      readonly isApiErrorMessage: boolean;
    };

/** Reads one transcript line. Never throws. */
export function readTranscriptLine(text: string): TranscriptLineRead {
  if (text.trim() === '') return { kind: 'blank' };
  const json = readJsonObject(text);
  if (!json.ok) return { kind: 'malformed', reason: json.reason };
  const { type, message } = json.value;
  const hasUsage = typeof message === 'object' && message !== null && 'usage' in message;
  if (type !== 'assistant' && !(type === undefined && hasUsage)) {
    return { kind: 'ignored', type: typeof type === 'string' ? type : '(none)' };
  }
  const parsed = transcriptAssistantLineSchema.safeParse(json.value);
  if (!parsed.success) {
    return { kind: 'malformed', reason: `assistant line: ${describeIssues(parsed.error)}` };
  }
  const line = parsed.data;
  return {
    kind: 'response',
    response: {
      messageId: line.message.id ?? null,
      requestId: line.requestId ?? null,
      model: line.message.model ?? null,
      usage: toTokenUsage(line.message.usage),
      sidechain: line.isSidechain === true,
      agentId: line.agentId ?? null,
      sessionId: line.sessionId ?? null,
      timestamp: line.timestamp ?? null,
      lineId: line.uuid ?? null,
    },
    texts: contentTexts(line.message.content),
    isApiErrorMessage: line.isApiErrorMessage === true,
  };
}
