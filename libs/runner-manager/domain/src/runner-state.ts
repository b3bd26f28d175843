import { runnerStateSchema } from '@stratavore/contracts';
import { type z } from 'zod';

import { RunnerErrorCode, RunnerException } from './runner.exception';

/** A runner's lifecycle state (docs/runners.md). */
export type RunnerState = z.infer<typeof runnerStateSchema>;
/** `RunnerState.running` and so on. */
export const RunnerState = runnerStateSchema.enum;

export const ALL_RUNNER_STATES: readonly RunnerState[] = runnerStateSchema.options;

/** States that hold a slot of the project's quota. */
export const ACTIVE_RUNNER_STATES = [
  'pending',
  'starting',
  'running',
  'waiting',
  'idle',
  'stopping',
] as const;
export type ActiveRunnerState = (typeof ACTIVE_RUNNER_STATES)[number];

export const TERMINAL_RUNNER_STATES = ['completed', 'failed', 'stopped'] as const;
export type TerminalRunnerState = (typeof TERMINAL_RUNNER_STATES)[number];

/**
 * States in which the agent command is up and its agent reports: `running`, and `waiting` /
 * `idle`, which Claude Code's hooks set while it waits for a person (docs/runners.md).
 */
export const LIVE_RUNNER_STATES = ['running', 'waiting', 'idle'] as const;
export type LiveRunnerState = (typeof LIVE_RUNNER_STATES)[number];

/** The only moves the state machine allows; terminal states have none. */
export const RUNNER_TRANSITIONS: Readonly<Record<RunnerState, readonly RunnerState[]>> = {
  pending: ['starting', 'failed', 'stopped'],
  starting: ['running', 'failed', 'stopped'],
  running: ['waiting', 'idle', 'stopping', 'completed', 'failed', 'stopped'],
  waiting: ['running', 'idle', 'stopping', 'completed', 'failed', 'stopped'],
  idle: ['running', 'waiting', 'stopping', 'completed', 'failed', 'stopped'],
  stopping: ['stopped', 'failed', 'completed'],
  completed: [],
  failed: [],
  stopped: [],
};

export function isTerminal(state: RunnerState): state is TerminalRunnerState {
  return (TERMINAL_RUNNER_STATES as readonly RunnerState[]).includes(state);
}

export function isActive(state: RunnerState): state is ActiveRunnerState {
  return (ACTIVE_RUNNER_STATES as readonly RunnerState[]).includes(state);
}

export function isLive(state: RunnerState): state is LiveRunnerState {
  return (LIVE_RUNNER_STATES as readonly RunnerState[]).includes(state);
}

export function canTransition(from: RunnerState, to: RunnerState): boolean {
  return RUNNER_TRANSITIONS[from].includes(to);
}

/** Throws `RunnerException(IllegalTransition)` unless the table allows `from -> to`. */
export function assertTransition(from: RunnerState, to: RunnerState, runnerId?: string): void {
  if (canTransition(from, to)) return;
  const allowed = RUNNER_TRANSITIONS[from];
  const who = runnerId === undefined ? 'a runner' : `runner ${runnerId}`;
  throw new RunnerException(
    RunnerErrorCode.IllegalTransition,
    `${who} cannot go from ${from} to ${to}; allowed from ${from}: ${
      allowed.length === 0 ? 'none (terminal)' : allowed.join(', ')
    }`,
    { from, to, allowed, ...(runnerId === undefined ? {} : { runner: runnerId }) },
  );
}
