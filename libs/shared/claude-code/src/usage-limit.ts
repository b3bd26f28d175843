/**
 * The notice Claude Code writes (as the text of a synthetic assistant message and as the
 * `result` text) when a subscription's usage limit stops it: `Claude AI usage limit
 * reached|<epoch seconds of the reset>`.
 */
const USAGE_LIMIT_NOTICE = /Claude AI usage limit reached(?:\|(\d{9,13}))?/i;

/**
 * Wordings of later versions, without a machine-readable reset time ("5-hour limit reached ∙
 * resets 3pm", "You've hit your limit · resets 3pm"). Only trusted on an error result or a
 * synthetic message: an assistant may well write these words about something else.
 */
const LOOSE_LIMIT_NOTICE = /\b(?:usage )?limit reached\b|\bhit your (?:usage )?limit\b/i;

/** A usage limit found in a text. */
export interface UsageLimitNotice {
  /** When the limit resets, if the text said so. */
  readonly resetsAt: Date | null;
}

/** Epoch seconds, or milliseconds for 13-digit values, to a date. */
export function epochToDate(epoch: number): Date {
  return new Date(epoch >= 1e12 ? epoch : epoch * 1000);
}

/**
 * Finds a usage-limit notice in `text`. `trusted` is true for texts that can only be Claude
 * Code's own (an error result, a synthetic message): then the looser wordings count too.
 */
export function findUsageLimitNotice(text: string, trusted: boolean): UsageLimitNotice | null {
  const match = USAGE_LIMIT_NOTICE.exec(text);
  if (match !== null) {
    const epoch = match[1];
    return { resetsAt: epoch === undefined ? null : epochToDate(Number(epoch)) };
  }
  if (trusted && LOOSE_LIMIT_NOTICE.test(text)) return { resetsAt: null };
  return null;
}
