import { Flags } from '@oclif/core';
import {
  MAX_TOKENS,
  MAX_USD,
  type PeriodAnchorInput,
  periodAnchorInputSchema,
  TOKEN_KINDS,
  type TokenKind,
} from '@stratavore/contracts';

const SUFFIXES: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** `2000000`, `2_000_000`, `500k`, `2M`, `1.5G`: a whole number of tokens (oclif prefixes the flag). */
export function parseTokens(input: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(input.replace(/_/g, '').trim());
  const value = match ? Number(match[1]) * (SUFFIXES[(match[2] ?? '').toLowerCase()] ?? 1) : NaN;
  if (!Number.isInteger(value) || value > MAX_TOKENS) {
    throw new Error(`expected a whole number of tokens such as 500000, 500k or 2M, got "${input}"`);
  }
  return value;
}

/** `25`, `$25`, `0.50`: an amount in USD. */
export function parseUsd(input: string): number {
  const text = input.trim().replace(/^\$/, '');
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value > MAX_USD) {
    throw new Error(`expected an amount in USD such as 25 or 0.50, got "${input}"`);
  }
  return value;
}

/** `none` clears; anything else goes through `parse`. */
function orNone<T>(parse: (input: string) => T): (input: string) => T | null {
  return (input) => (input.trim().toLowerCase() === 'none' ? null : parse(input));
}

/** `50,80,95` (percent of the limit, each in (0, 100)) -> `[0.5, 0.8, 0.95]`; `none` -> `[]`. */
export function parseWarnThresholds(input: string): number[] {
  if (input.trim().toLowerCase() === 'none') return [];
  return input.split(',').map((part) => {
    const text = part.trim().replace(/%$/, '');
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(value > 0 && value < 100)) {
      throw new Error(
        `expected percentages of the limit between 0 and 100 such as 50,80,95 (or none), got "${input}"`,
      );
    }
    return Math.round(value * 100) / 10_000;
  });
}

/** `input,output` -> the token kinds a budget counts. */
export function parseTokenKinds(input: string): TokenKind[] {
  return input.split(',').map((part) => {
    const kind = part.trim();
    if (!(TOKEN_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`expected token kinds among ${TOKEN_KINDS.join(', ')}, got "${kind}"`);
    }
    return kind as TokenKind;
  });
}

export const tokensFlag = Flags.custom<number>({
  helpValue: 'N',
  parse: (input) => Promise.resolve(parseTokens(input)),
});

export const usdFlag = Flags.custom<number>({
  helpValue: 'USD',
  parse: (input) => Promise.resolve(parseUsd(input)),
});

/** Tokens, or `none` to clear. */
export const tokensOrNoneFlag = Flags.custom<number | null>({
  helpValue: 'N|none',
  parse: (input) => Promise.resolve(orNone(parseTokens)(input)),
});

/** USD, or `none` to clear. */
export const usdOrNoneFlag = Flags.custom<number | null>({
  helpValue: 'USD|none',
  parse: (input) => Promise.resolve(orNone(parseUsd)(input)),
});

export const warnFlag = Flags.custom<number[]>({
  helpValue: '50,80,95',
  parse: (input) => Promise.resolve(parseWarnThresholds(input)),
});

export const tokenKindsFlag = Flags.custom<TokenKind[]>({
  helpValue: 'KINDS',
  parse: (input) => Promise.resolve(parseTokenKinds(input)),
});

const PERIOD_START_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * `--period-start`: where the budget's periods start. A date (`2026-03-02`) or a date-time
 * without offset (`2026-03-02T09:00`) is wall-clock time in the budget's zone, sent as the
 * anchor's weekday, day of month and time of day. A date-time with an offset
 * (`2026-03-02T09:00+01:00`, `...Z`) is an instant, sent as `startsAt` for budget-service to read
 * in the budget's zone. Seconds are dropped, as budget-service drops them.
 */
export function parsePeriodStart(input: string): PeriodAnchorInput {
  const expected = `expected a date (2026-03-02) or a date-time in the budget's --tz (2026-03-02T09:00) or with an offset (2026-03-02T09:00+01:00), got "${input}"`;
  const match = PERIOD_START_PATTERN.exec(input.trim());
  if (!match) throw new Error(expected);
  const [, year, month, day, hour = '00', minute = '00', second, fraction, offset] = match;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const realDate =
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day);
  if (!realDate || Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) {
    throw new Error(expected);
  }
  const anchor: PeriodAnchorInput =
    offset === undefined
      ? {
          weekStartsOn: date.getUTCDay() === 0 ? 7 : date.getUTCDay(),
          monthDay: date.getUTCDate(),
          timeOfDay: `${hour}:${minute}`,
        }
      : {
          startsAt: `${year}-${month}-${day}T${hour}:${minute}:${second ?? '00'}${fraction ?? ''}${offset.toUpperCase()}`,
        };
  // The contract has the last word (an offset such as +25:00).
  const parsed = periodAnchorInputSchema.safeParse(anchor);
  if (!parsed.success) throw new Error(expected);
  return parsed.data;
}

export const periodStartFlag = Flags.custom<PeriodAnchorInput>({
  helpValue: 'DATE|DATETIME',
  parse: (input) => Promise.resolve(parsePeriodStart(input)),
});
