import { z } from 'zod';

/** Log levels understood by the logger (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);
const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** A TCP port 1..65535 given as a decimal string (or a number). */
export function port() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const text = String(value).trim();
    const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535) {
      ctx.addIssue({ code: 'custom', message: 'expected an integer port between 1 and 65535' });
      return z.NEVER;
    }
    return parsed;
  });
}

/**
 * An absolute URL whose scheme is one of `protocols` (`'postgres'` or `'postgres:'` both work).
 * The output is the URL string as given.
 */
export function url(protocols: readonly string[]) {
  const allowed = protocols.map((p) => (p.endsWith(':') ? p : `${p}:`).toLowerCase());
  const expected = `expected a URL with scheme ${allowed.map((p) => `${p}//`).join(' or ')}`;
  return z.string().superRefine((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: expected });
      return;
    }
    if (!allowed.includes(parsed.protocol.toLowerCase())) {
      ctx.addIssue({ code: 'custom', message: expected });
    }
  });
}

/**
 * A duration in milliseconds: `"500ms"`, `"10s"`, `"5m"`, `"1h"`, or a bare number of
 * milliseconds (`"250"`).
 */
export function duration() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const match = DURATION_PATTERN.exec(String(value).trim());
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a duration such as 500ms, 10s, 5m, 1h or a number of milliseconds',
      });
      return z.NEVER;
    }
    const unit = (match[2] ?? 'ms') as keyof typeof DURATION_UNITS_MS;
    return Math.round(Number(match[1]) * DURATION_UNITS_MS[unit]);
  });
}

/** A boolean from `true/false`, `1/0` or `yes/no` (case-insensitive). */
export function bool() {
  return z.union([z.string(), z.boolean()]).transform((value, ctx) => {
    if (typeof value === 'boolean') return value;
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    ctx.addIssue({ code: 'custom', message: 'expected one of true, false, 1, 0, yes, no' });
    return z.NEVER;
  });
}

/** A log level: fatal, error, warn, info, debug, trace or silent (case-insensitive). */
export function logLevel() {
  return z
    .string()
    .transform((value) => value.trim().toLowerCase())
    .pipe(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }));
}
