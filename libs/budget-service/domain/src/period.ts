import { type BudgetPeriod, type PeriodAnchorInput } from '@stratavore/contracts';

import {
  addDays,
  addMonths,
  type CivilDate,
  daysInMonth,
  instantOfWallClock,
  isoWeekday,
  wallClockOf,
} from './zoned-time';

/** Where periods start, every field resolved (docs/budgets.md, "Periods"). */
export interface PeriodAnchor {
  /** ISO weekday weeks start on: 1 = Monday ... 7 = Sunday. */
  readonly weekStartsOn: number;
  /** Day of the month months start on; past a month's end means its last day. */
  readonly monthDay: number;
  /** Local `HH:MM` periods start at. */
  readonly timeOfDay: string;
}

export const DEFAULT_PERIOD_ANCHOR: PeriodAnchor = Object.freeze({
  weekStartsOn: 1,
  monthDay: 1,
  timeOfDay: '00:00',
});

/** How a budget cuts time into periods. */
export interface PeriodRule {
  readonly period: BudgetPeriod;
  readonly timeZone: string;
  readonly anchor: PeriodAnchor;
}

/** `[start, end)`; `end` is `null` for `period: none` (a period that never ends). */
export interface PeriodBounds {
  readonly start: Date;
  readonly end: Date | null;
}

/**
 * The stored anchor for an input anchor: defaults filled in, or, for `startsAt`, the weekday,
 * day of month and `HH:MM` of that instant's wall clock in `timeZone` (seconds dropped).
 */
export function resolveAnchor(
  input: PeriodAnchorInput | undefined,
  timeZone: string,
): PeriodAnchor {
  if (input?.startsAt !== undefined) {
    const wall = wallClockOf(Date.parse(input.startsAt), timeZone);
    return {
      weekStartsOn: isoWeekday(wall),
      monthDay: wall.day,
      timeOfDay: `${pad(wall.hour)}:${pad(wall.minute)}`,
    };
  }
  return {
    weekStartsOn: input?.weekStartsOn ?? DEFAULT_PERIOD_ANCHOR.weekStartsOn,
    monthDay: input?.monthDay ?? DEFAULT_PERIOD_ANCHOR.monthDay,
    timeOfDay: input?.timeOfDay ?? DEFAULT_PERIOD_ANCHOR.timeOfDay,
  };
}

/**
 * True when the two rules cut time differently (a change re-baselines the budget). Only the
 * fields the period uses count: the zone and time of day for calendar periods, the weekday for
 * weeks, the day of the month for months; nothing for `none`.
 */
export function periodRuleChanged(a: PeriodRule, b: PeriodRule): boolean {
  if (a.period !== b.period) return true;
  if (a.period === 'none') return false;
  if (a.timeZone !== b.timeZone || a.anchor.timeOfDay !== b.anchor.timeOfDay) return true;
  if (a.period === 'weekly') return a.anchor.weekStartsOn !== b.anchor.weekStartsOn;
  if (a.period === 'monthly') return a.anchor.monthDay !== b.anchor.monthDay;
  return false;
}

/**
 * The calendar period holding `instant`: `start <= instant < end`, boundaries at the anchor's
 * local time in the rule's zone (so a day is 23 or 25 hours long across a DST change). For
 * `none` there is no calendar: the caller decides where the single period starts.
 */
export function calendarPeriodAt(instant: Date, rule: PeriodRule): PeriodBounds {
  const at = instant.getTime();
  const minute = minuteOfDay(rule.anchor.timeOfDay);
  const boundary = (date: CivilDate) => instantOfWallClock(date, minute, rule.timeZone);
  const today = wallClockOf(at, rule.timeZone);
  switch (rule.period) {
    case 'none':
      return { start: instant, end: null };
    case 'daily': {
      let day: CivilDate = today;
      if (boundary(day) > at) day = addDays(day, -1);
      return bounds(boundary(day), boundary(addDays(day, 1)));
    }
    case 'weekly': {
      let day = addDays(today, -((isoWeekday(today) - rule.anchor.weekStartsOn + 7) % 7));
      if (boundary(day) > at) day = addDays(day, -7);
      return bounds(boundary(day), boundary(addDays(day, 7)));
    }
    case 'monthly': {
      const monthStart = (year: number, month: number): CivilDate => ({
        year,
        month,
        day: Math.min(rule.anchor.monthDay, daysInMonth(year, month)),
      });
      let month = { year: today.year, month: today.month };
      if (boundary(monthStart(month.year, month.month)) > at) {
        month = addMonths(month.year, month.month, -1);
      }
      const next = addMonths(month.year, month.month, 1);
      return bounds(
        boundary(monthStart(month.year, month.month)),
        boundary(monthStart(next.year, next.month)),
      );
    }
  }
}

/**
 * The first period of a budget (or of a re-baselined one) that starts counting at `from`: it
 * runs from `from` to the end of the calendar period holding it (`none`: forever).
 */
export function periodStartingAt(from: Date, rule: PeriodRule): PeriodBounds {
  return { start: from, end: calendarPeriodAt(from, rule).end };
}

/** The period after `current` (which must have an end): the calendar period at its end. */
export function nextPeriod(current: PeriodBounds, rule: PeriodRule): PeriodBounds {
  if (current.end === null) throw new Error('a period that never ends has no next period');
  return calendarPeriodAt(current.end, rule);
}

function bounds(start: number, end: number): PeriodBounds {
  return { start: new Date(start), end: new Date(end) };
}

function minuteOfDay(timeOfDay: string): number {
  const [hours = 0, minutes = 0] = timeOfDay.split(':').map(Number);
  return hours * 60 + minutes;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
