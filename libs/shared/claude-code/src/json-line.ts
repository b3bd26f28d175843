import { type z } from 'zod';

/** Where a line came from, for the report of malformed lines. */
export type LineSource = 'transcript' | 'stream-json';

/** A line that could not be read. Counted and reported, never thrown. */
export interface MalformedLine {
  readonly source: LineSource;
  /** The file (or stream) the caller named, if any. */
  readonly origin: string | null;
  /** 1-based. */
  readonly lineNumber: number;
  readonly reason: string;
}

/** Longest line kept in a malformed-line reason. */
const EXCERPT_CHARS = 80;

export type JsonObjectRead =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly reason: string };

/** Parses one JSON Lines line that must hold an object. */
export function readJsonObject(text: string): JsonObjectRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      reason: `not JSON (${error instanceof Error ? error.message : String(error)}): ${excerpt(text)}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `not a JSON object: ${excerpt(text)}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** zod issues as one line: `message.usage.output_tokens: expected number; ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= EXCERPT_CHARS ? oneLine : `${oneLine.slice(0, EXCERPT_CHARS)}...`;
}

/** Texts of the `text` blocks of a message's content (a string content counts as one text). */
export function contentTexts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const texts: string[] = [];
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue;
    const { type, text } = block as { type?: unknown; text?: unknown };
    if (type === 'text' && typeof text === 'string') texts.push(text);
  }
  return texts;
}
