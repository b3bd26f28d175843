// Wall-clock arithmetic in IANA time zones on the runtime's Intl data, without a date library.

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A calendar date with no zone (`month` 1..12). */
export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A calendar date and wall-clock time with no zone. */
export interface CivilDateTime extends CivilDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

/** The wall-clock date and time of `instant` (ms since the epoch) in `timeZone`. */
export function wallClockOf(instant: number, timeZone: string): CivilDateTime {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields['year'] ?? 1970,
    month: fields['month'] ?? 1,
    day: fields['day'] ?? 1,
    hour: fields['hour'] ?? 0,
    minute: fields['minute'] ?? 0,
    second: fields['second'] ?? 0,
  };
}

/** The wall-clock time of `instant` as if it were UTC milliseconds (for comparisons). */
function wallMs(instant: number, timeZone: string): number {
  const w = wallClockOf(instant, timeZone);
  const wholeSeconds = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wholeSeconds + (((instant % 1000) + 1000) % 1000);
}

/** `timeZone`'s offset from UTC at `instant`, in ms (Berlin in winter: +3,600,000). */
export function offsetAt(instant: number, timeZone: string): number {
  return wallMs(instant, timeZone) - instant;
}

/**
 * The instant at which the wall clock in `timeZone` shows `date` at `minuteOfDay`. A time that
 * happens twice (clocks turned back) gives the earlier instant; a time that never happens
 * (clocks turned forward over it) gives the first instant after the gap, when the clock jumps.
 */
export function instantOfWallClock(date: CivilDate, minuteOfDay: number, timeZone: string): number {
  const target = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * MINUTE_MS;
  // Offsets change at most once or twice around any instant; those a day away on either side
  // (and at the guess itself) cover every candidate.
  const candidates = [
    ...new Set(
      [target - DAY_MS, target, target + DAY_MS].map((probe) => target - offsetAt(probe, timeZone)),
    ),
  ].sort((a, b) => a - b);
  const exact = candidates.find((candidate) => wallMs(candidate, timeZone) === target);
  if (exact !== undefined) return exact;
  // In a gap: the first instant whose wall clock reads at or after the target.
  let low = candidates[0] ?? target;
  let high = candidates[candidates.length - 1] ?? target;
  if (wallMs(high, timeZone) < target) high += DAY_MS;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (wallMs(middle, timeZone) >= target) high = middle;
    else low = middle;
  }
  return high;
}

/** `date` moved by `days` calendar days. */
export function addDays(date: CivilDate, days: number): CivilDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** `year-month` moved by `months` (day dropped). */
export function addMonths(
  year: number,
  month: number,
  months: number,
): { year: number; month: number } {
  const index = year * 12 + (month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/** Days in `month` (1..12) of `year`, leap years included. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ISO weekday of `date`: 1 = Monday ... 7 = Sunday. */
export function isoWeekday(date: CivilDate): number {
  const day = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return day === 0 ? 7 : day;
}

/** `YYYY-MM-DD`. */
export function formatCivilDate(date: CivilDate): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}
