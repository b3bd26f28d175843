import {
  calendarPeriodAt,
  DEFAULT_PERIOD_ANCHOR,
  nextPeriod,
  type PeriodAnchor,
  type PeriodBounds,
  type PeriodRule,
  periodRuleChanged,
  periodStartingAt,
  resolveAnchor,
} from './period';
import { instantOfWallClock, offsetAt, wallClockOf } from './zoned-time';

const HOUR = 3_600_000;

function rule(
  period: PeriodRule['period'],
  timeZone = 'UTC',
  anchor: Partial<PeriodAnchor> = {},
): PeriodRule {
  return { period, timeZone, anchor: { ...DEFAULT_PERIOD_ANCHOR, ...anchor } };
}

function iso(bounds: PeriodBounds) {
  return { start: bounds.start.toISOString(), end: bounds.end?.toISOString() ?? null };
}

function at(instant: string, r: PeriodRule) {
  return iso(calendarPeriodAt(new Date(instant), r));
}

describe('daily periods', () => {
  it('puts spend just before the reset in the old day and just after it in the new one', () => {
    expect(at('2026-03-01T23:59:59.999Z', rule('daily'))).toEqual({
      start: '2026-03-01T00:00:00.000Z',
      end: '2026-03-02T00:00:00.000Z',
    });
    expect(at('2026-03-02T00:00:00.000Z', rule('daily'))).toEqual({
      start: '2026-03-02T00:00:00.000Z',
      end: '2026-03-03T00:00:00.000Z',
    });
  });

  it('starts at the anchor time of day, in the zone', () => {
    const r = rule('daily', 'Asia/Kolkata', { timeOfDay: '09:30' });
    // 09:30 IST = 04:00Z.
    expect(at('2026-03-01T03:59:00Z', r)).toEqual({
      start: '2026-02-28T04:00:00.000Z',
      end: '2026-03-01T04:00:00.000Z',
    });
    expect(at('2026-03-01T04:00:00Z', r)).toEqual({
      start: '2026-03-01T04:00:00.000Z',
      end: '2026-03-02T04:00:00.000Z',
    });
  });

  it('has 23 hours on the day Berlin springs forward and 25 on the day it falls back', () => {
    const r = rule('daily', 'Europe/Berlin');
    const spring = calendarPeriodAt(new Date('2026-03-29T12:00:00Z'), r);
    expect(iso(spring)).toEqual({
      start: '2026-03-28T23:00:00.000Z',
      end: '2026-03-29T22:00:00.000Z',
    });
    expect(spring.end!.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    const autumn = calendarPeriodAt(new Date('2026-10-25T12:00:00Z'), r);
    expect(iso(autumn)).toEqual({
      start: '2026-10-24T22:00:00.000Z',
      end: '2026-10-25T23:00:00.000Z',
    });
    expect(autumn.end!.getTime() - autumn.start.getTime()).toBe(25 * HOUR);
  });

  it('starts at the end of the gap when the anchor time does not exist that day', () => {
    // New York skips 02:00-03:00 on 2026-03-08 (07:00Z); 02:30 that day is 03:00 EDT.
    const r = rule('daily', 'America/New_York', { timeOfDay: '02:30' });
    expect(at('2026-03-08T12:00:00Z', r)).toEqual({
      start: '2026-03-08T07:00:00.000Z',
      end: '2026-03-09T06:30:00.000Z',
    });
    // Santiago skips midnight on 2026-09-06: the day starts at 01:00 local (04:00Z).
    expect(at('2026-09-06T12:00:00Z', rule('daily', 'America/Santiago'))).toEqual({
      start: '2026-09-06T04:00:00.000Z',
      end: '2026-09-07T03:00:00.000Z',
    });
    expect(at('2026-09-06T03:59:59Z', rule('daily', 'America/Santiago'))).toEqual({
      start: '2026-09-05T04:00:00.000Z',
      end: '2026-09-06T04:00:00.000Z',
    });
  });

  it('starts at the first of the two when the anchor time happens twice', () => {
    // 01:30 happens at 05:30Z (EDT) and 06:30Z (EST) on 2026-11-01.
    const r = rule('daily', 'America/New_York', { timeOfDay: '01:30' });
    expect(at('2026-11-01T06:00:00Z', r)).toEqual({
      start: '2026-11-01T05:30:00.000Z',
      end: '2026-11-02T06:30:00.000Z',
    });
  });
});

describe('weekly periods', () => {
  it('starts on the anchor weekday (ISO: 1 = Monday)', () => {
    // 2026-03-01 is a Sunday.
    expect(at('2026-03-01T12:00:00Z', rule('weekly'))).toEqual({
      start: '2026-02-23T00:00:00.000Z',
      end: '2026-03-02T00:00:00.000Z',
    });
    expect(at('2026-03-01T12:00:00Z', rule('weekly', 'UTC', { weekStartsOn: 7 }))).toEqual({
      start: '2026-03-01T00:00:00.000Z',
      end: '2026-03-08T00:00:00.000Z',
    });
  });

  it('goes back a week when the anchor time has not come yet on the anchor day', () => {
    const r = rule('weekly', 'UTC', { weekStartsOn: 1, timeOfDay: '09:00' });
    expect(at('2026-03-02T08:59:00Z', r)).toEqual({
      start: '2026-02-23T09:00:00.000Z',
      end: '2026-03-02T09:00:00.000Z',
    });
  });

  it('is 167 hours long across a spring-forward in Berlin', () => {
    const week = calendarPeriodAt(
      new Date('2026-03-25T00:00:00Z'),
      rule('weekly', 'Europe/Berlin'),
    );
    expect(iso(week)).toEqual({
      start: '2026-03-22T23:00:00.000Z',
      end: '2026-03-29T22:00:00.000Z',
    });
  });
});

describe('monthly periods', () => {
  it('rolls on the first by default, in the zone', () => {
    expect(at('2026-03-15T00:00:00Z', rule('monthly', 'Europe/Berlin'))).toEqual({
      start: '2026-02-28T23:00:00.000Z',
      end: '2026-03-31T22:00:00.000Z',
    });
  });

  it('treats day 31 as the last day of shorter months (Jan 31 -> Feb 28 -> Mar 31)', () => {
    const r = rule('monthly', 'UTC', { monthDay: 31 });
    expect(at('2026-02-10T00:00:00Z', r)).toEqual({
      start: '2026-01-31T00:00:00.000Z',
      end: '2026-02-28T00:00:00.000Z',
    });
    expect(at('2026-02-28T00:00:00Z', r)).toEqual({
      start: '2026-02-28T00:00:00.000Z',
      end: '2026-03-31T00:00:00.000Z',
    });
    expect(at('2026-04-30T12:00:00Z', r)).toEqual({
      start: '2026-04-30T00:00:00.000Z',
      end: '2026-05-31T00:00:00.000Z',
    });
  });

  it('knows leap years', () => {
    const r = rule('monthly', 'UTC', { monthDay: 30 });
    expect(at('2028-02-29T12:00:00Z', r)).toEqual({
      start: '2028-02-29T00:00:00.000Z',
      end: '2028-03-30T00:00:00.000Z',
    });
    expect(at('2028-02-28T12:00:00Z', r)).toEqual({
      start: '2028-01-30T00:00:00.000Z',
      end: '2028-02-29T00:00:00.000Z',
    });
    expect(at('2027-02-28T12:00:00Z', r)).toEqual({
      start: '2027-02-28T00:00:00.000Z',
      end: '2027-03-30T00:00:00.000Z',
    });
    expect(at('2100-02-28T12:00:00Z', r)).toEqual({
      start: '2100-02-28T00:00:00.000Z',
      end: '2100-03-30T00:00:00.000Z',
    });
  });

  it('crosses the year', () => {
    expect(at('2026-12-31T23:59:59Z', rule('monthly'))).toEqual({
      start: '2026-12-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
    expect(at('2027-01-01T00:00:00Z', rule('monthly', 'UTC', { monthDay: 15 }))).toEqual({
      start: '2026-12-15T00:00:00.000Z',
      end: '2027-01-15T00:00:00.000Z',
    });
  });
});

describe('period sequences', () => {
  const zones = [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'America/Santiago',
  ];
  const rules: PeriodRule[] = zones.flatMap((zone) => [
    rule('daily', zone),
    rule('daily', zone, { timeOfDay: '02:30' }),
    rule('weekly', zone, { weekStartsOn: 7, timeOfDay: '00:15' }),
    rule('monthly', zone, { monthDay: 31 }),
  ]);

  it.each(rules.map((r) => [`${r.period} ${r.timeZone} ${r.anchor.timeOfDay}`, r] as const))(
    '%s: periods over a year are contiguous and hold every instant',
    (_name, r) => {
      let period = calendarPeriodAt(new Date('2026-01-01T00:00:00Z'), r);
      const until = Date.parse('2027-01-01T00:00:00Z');
      let steps = 0;
      while (period.start.getTime() < until) {
        const next = nextPeriod(period, r);
        expect(next.start).toEqual(period.end);
        expect(next.end!.getTime()).toBeGreaterThan(next.start.getTime());
        // An instant just before the boundary belongs to the old period, the boundary to the new.
        expect(iso(calendarPeriodAt(new Date(next.start.getTime() - 1), r))).toEqual(iso(period));
        expect(iso(calendarPeriodAt(next.start, r))).toEqual(iso(next));
        period = next;
        steps++;
      }
      expect(steps).toBeGreaterThan(11);
    },
  );
});

describe('partial periods and anchors', () => {
  it('starts a re-baselined period at the change and ends it on the calendar', () => {
    expect(iso(periodStartingAt(new Date('2026-03-01T15:20:00Z'), rule('daily')))).toEqual({
      start: '2026-03-01T15:20:00.000Z',
      end: '2026-03-02T00:00:00.000Z',
    });
    expect(iso(periodStartingAt(new Date('2026-03-01T15:20:00Z'), rule('none')))).toEqual({
      start: '2026-03-01T15:20:00.000Z',
      end: null,
    });
    expect(() => nextPeriod({ start: new Date(0), end: null }, rule('none'))).toThrow(/never ends/);
  });

  it('resolves startsAt to the local weekday, day and time in the zone', () => {
    // 08:15Z on Wednesday 2026-03-04 is 03:15 in New York.
    expect(resolveAnchor({ startsAt: '2026-03-04T08:15:42Z' }, 'America/New_York')).toEqual({
      weekStartsOn: 3,
      monthDay: 4,
      timeOfDay: '03:15',
    });
    expect(resolveAnchor(undefined, 'UTC')).toEqual(DEFAULT_PERIOD_ANCHOR);
    expect(resolveAnchor({ monthDay: 31 }, 'UTC')).toEqual({
      ...DEFAULT_PERIOD_ANCHOR,
      monthDay: 31,
    });
  });

  it('says when a rule cuts time differently', () => {
    expect(periodRuleChanged(rule('daily'), rule('daily'))).toBe(false);
    expect(periodRuleChanged(rule('daily'), rule('weekly'))).toBe(true);
    expect(periodRuleChanged(rule('daily'), rule('daily', 'Europe/Berlin'))).toBe(true);
    expect(periodRuleChanged(rule('daily'), rule('daily', 'UTC', { timeOfDay: '01:00' }))).toBe(
      true,
    );
    // Fields the period does not use change nothing.
    expect(periodRuleChanged(rule('daily'), rule('daily', 'UTC', { monthDay: 9 }))).toBe(false);
    expect(periodRuleChanged(rule('weekly'), rule('weekly', 'UTC', { weekStartsOn: 3 }))).toBe(
      true,
    );
    expect(periodRuleChanged(rule('none'), rule('none', 'Europe/Berlin'))).toBe(false);
  });
});

describe('zoned time', () => {
  it('reads offsets and wall clocks, half-hour DST included', () => {
    expect(offsetAt(Date.parse('2026-01-15T00:00:00Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(offsetAt(Date.parse('2026-07-15T00:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(offsetAt(Date.parse('2026-10-03T15:30:00Z'), 'Australia/Lord_Howe')).toBe(11 * HOUR);
    expect(offsetAt(Date.parse('2026-10-03T15:29:00Z'), 'Australia/Lord_Howe')).toBe(10.5 * HOUR);
    expect(wallClockOf(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toMatchObject({
      day: 29,
      hour: 3,
      minute: 0,
    });
  });

  it('maps wall clocks back to instants', () => {
    const day = { year: 2026, month: 3, day: 29 };
    expect(new Date(instantOfWallClock(day, 0, 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
    // 02:30 does not exist in Berlin that day: the clock jumps from 02:00 to 03:00 at 01:00Z.
    expect(new Date(instantOfWallClock(day, 150, 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(new Date(instantOfWallClock(day, 180, 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });
});
