const UNITS_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * An instant from `--since`: a span back from now (`30m`, `12h`, `7d`, `2w`), a day
 * (`2026-03-01`, midnight UTC) or an ISO 8601 time. Throws a message naming what is expected.
 */
export function parseSince(input: string, now: Date): Date {
  const text = input.trim();
  const span = /^(\d+)([mhdw])$/.exec(text);
  if (span) return new Date(now.getTime() - Number(span[1]) * (UNITS_MS[span[2] ?? 'd'] ?? 0));
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const day = new Date(`${text}T00:00:00.000Z`);
    if (!Number.isNaN(day.getTime()) && day.toISOString().startsWith(text)) return day;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) {
    return new Date(text);
  }
  throw new Error(
    `expected a span back from now (30m, 12h, 7d, 2w), a day (2026-03-01) or an ISO time, got "${input}"`,
  );
}

/** The UTC day (`YYYY-MM-DD`) of an instant. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
