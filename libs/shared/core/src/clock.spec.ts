import { ManualClock } from './clock';
import { SequentialIdGenerator } from './ids';

describe('ManualClock', () => {
  it('stays put until advanced or set', () => {
    const clock = new ManualClock('2026-03-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2026-03-01T00:00:00.000Z');
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe('2026-03-01T00:00:01.500Z');
    clock.set('2027-01-01T00:00:00Z');
    expect(clock.now().getUTCFullYear()).toBe(2027);
  });
});

describe('SequentialIdGenerator', () => {
  it('hands out distinct uuid-shaped ids in order', () => {
    const ids = new SequentialIdGenerator();
    expect(ids.uuid()).toBe('00000000-0000-4000-8000-000000000001');
    expect(ids.uuid()).toBe('00000000-0000-4000-8000-000000000002');
  });
});
