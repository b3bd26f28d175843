import { parseSince, utcDay } from './time-flags';

describe('parseSince', () => {
  const now = new Date('2026-03-10T12:00:00.000Z');

  it('reads spans back from now, days and ISO times', () => {
    expect(parseSince('30m', now).toISOString()).toBe('2026-03-10T11:30:00.000Z');
    expect(parseSince('12h', now).toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(parseSince('2w', now).toISOString()).toBe('2026-02-24T12:00:00.000Z');
    expect(parseSince('2026-03-01', now).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseSince('2026-03-01T08:00:00+02:00', now).toISOString()).toBe(
      '2026-03-01T06:00:00.000Z',
    );
    expect(utcDay(parseSince('7d', now))).toBe('2026-03-03');
  });

  it('refuses anything else, saying what it expects', () => {
    for (const bad of ['', '7', '7 days', 'yesterday', '2026-02-30', '2026-13-01T00:00:00Z']) {
      expect(() => parseSince(bad, now)).toThrow(/expected a span back from now/);
    }
  });
});
