import { RunnerErrorCode, RunnerException } from './runner.exception';
import {
  ALL_RUNNER_STATES,
  assertTransition,
  canTransition,
  isActive,
  isLive,
  isTerminal,
  RunnerState,
} from './runner-state';

const allowed: Array<[RunnerState, RunnerState]> = [
  ['pending', 'starting'],
  ['pending', 'failed'],
  ['pending', 'stopped'],
  ['starting', 'running'],
  ['starting', 'failed'],
  ['starting', 'stopped'],
  ['running', 'waiting'],
  ['running', 'idle'],
  ['running', 'stopping'],
  ['running', 'completed'],
  ['running', 'failed'],
  ['running', 'stopped'],
  // Claude Code's hooks: waiting for a person, or a finished interactive turn, and back.
  ['waiting', 'running'],
  ['waiting', 'idle'],
  ['waiting', 'stopping'],
  ['waiting', 'completed'],
  ['waiting', 'failed'],
  ['waiting', 'stopped'],
  ['idle', 'running'],
  ['idle', 'waiting'],
  ['idle', 'stopping'],
  ['idle', 'completed'],
  ['idle', 'failed'],
  ['idle', 'stopped'],
  ['stopping', 'stopped'],
  ['stopping', 'failed'],
  ['stopping', 'completed'],
];

describe('runner state machine', () => {
  it('allows exactly the transitions of docs/runners.md', () => {
    const key = (from: RunnerState, to: RunnerState) => `${from}->${to}`;
    const expected = new Set(allowed.map(([from, to]) => key(from, to)));
    for (const from of ALL_RUNNER_STATES) {
      for (const to of ALL_RUNNER_STATES) {
        expect({ move: key(from, to), ok: canTransition(from, to) }).toEqual({
          move: key(from, to),
          ok: expected.has(key(from, to)),
        });
      }
    }
  });

  it('refuses an illegal move with IllegalTransition naming both states', () => {
    expect(() => assertTransition(RunnerState.completed, RunnerState.running, 'r1')).toThrow(
      RunnerException,
    );
    try {
      assertTransition('pending', 'running', 'r1');
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(RunnerException);
      const exception = error as RunnerException;
      expect(exception.code).toBe(RunnerErrorCode.IllegalTransition);
      expect(exception.message).toBe(
        'runner r1 cannot go from pending to running; allowed from pending: starting, failed, stopped',
      );
      expect(exception.details).toMatchObject({ from: 'pending', to: 'running', runner: 'r1' });
    }
    expect(() => assertTransition('starting', 'running')).not.toThrow();
  });

  it('classifies active and terminal states', () => {
    expect(ALL_RUNNER_STATES.filter((s) => isActive(s))).toEqual([
      'pending',
      'starting',
      'running',
      'waiting',
      'idle',
      'stopping',
    ]);
    expect(ALL_RUNNER_STATES.filter((s) => isLive(s))).toEqual(['running', 'waiting', 'idle']);
    expect(ALL_RUNNER_STATES.filter((s) => isTerminal(s))).toEqual([
      'completed',
      'failed',
      'stopped',
    ]);
  });
});
