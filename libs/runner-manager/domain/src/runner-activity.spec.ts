import { type SessionActivity } from '@stratavore/contracts';

import { decideActivity, heldActivityState, stateOfActivity, waitedMs } from './runner-activity';

const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, second)).toISOString();

const waiting: SessionActivity = {
  state: 'waiting',
  reason: 'permission_prompt',
  message: 'Claude needs your permission to use Bash',
  since: at(10),
};
const working: SessionActivity = {
  state: 'working',
  reason: 'PostToolUse',
  message: null,
  since: at(20),
};
const idle: SessionActivity = { state: 'idle', reason: 'Stop', message: null, since: at(30) };

describe('decideActivity', () => {
  it('moves a live runner to the state the activity stands for', () => {
    expect(decideActivity({ state: 'running', activity: null }, waiting)).toEqual({
      kind: 'move',
      to: 'waiting',
      activity: waiting,
    });
    expect(decideActivity({ state: 'waiting', activity: waiting }, working)).toEqual({
      kind: 'move',
      to: 'running',
      activity: working,
    });
    expect(decideActivity({ state: 'running', activity: working }, idle)).toEqual({
      kind: 'move',
      to: 'idle',
      activity: idle,
    });
    expect(
      decideActivity({ state: 'idle', activity: idle }, { ...waiting, since: at(90) }),
    ).toMatchObject({ kind: 'move', to: 'waiting' });
  });

  it('records a newer activity of the same state without a move (no second event)', () => {
    const question = { ...waiting, reason: 'elicitation_dialog', since: at(15) };
    expect(decideActivity({ state: 'waiting', activity: waiting }, question)).toEqual({
      kind: 'record',
      activity: question,
    });
  });

  it('never applies an activity twice or out of order', () => {
    expect(decideActivity({ state: 'waiting', activity: waiting }, waiting)).toMatchObject({
      kind: 'ignore',
    });
    // The working of 10:00:20 was applied; the waiting of 10:00:10 arrives late.
    expect(decideActivity({ state: 'running', activity: working }, waiting)).toEqual({
      kind: 'ignore',
      why: `activity of ${at(10)} is not newer than ${at(20)}`,
    });
  });

  it('keeps the activity of a stopping or starting runner, ignores an ended one', () => {
    expect(decideActivity({ state: 'stopping', activity: null }, waiting)).toEqual({
      kind: 'record',
      activity: waiting,
    });
    expect(decideActivity({ state: 'starting', activity: null }, waiting)).toEqual({
      kind: 'record',
      activity: waiting,
    });
    expect(decideActivity({ state: 'starting', activity: null }, working)).toEqual({
      kind: 'record',
      activity: working,
    });
    expect(decideActivity({ state: 'completed', activity: null }, waiting)).toEqual({
      kind: 'ignore',
      why: 'runner already completed',
    });
    expect(decideActivity({ state: 'running', activity: null }, undefined)).toMatchObject({
      kind: 'ignore',
    });
  });
});

describe('heldActivityState', () => {
  it('moves a runner that just runs on to what Claude did while it was starting', () => {
    expect(heldActivityState({ state: 'running', activity: idle })).toBe('idle');
    expect(heldActivityState({ state: 'running', activity: waiting })).toBe('waiting');
    expect(heldActivityState({ state: 'running', activity: working })).toBeNull();
    expect(heldActivityState({ state: 'running', activity: null })).toBeNull();
    expect(heldActivityState({ state: 'stopping', activity: idle })).toBeNull();
  });
});

describe('stateOfActivity and waitedMs', () => {
  it('maps each activity to a live state and measures the wait', () => {
    expect([working, waiting, idle].map(stateOfActivity)).toEqual(['running', 'waiting', 'idle']);
    expect(waitedMs(waiting, working)).toBe(10_000);
    expect(waitedMs(null, working)).toBe(0);
    expect(waitedMs(idle, working)).toBe(0);
  });
});
