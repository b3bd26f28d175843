import { type SessionActivity } from '@stratavore/contracts';

import { type Runner } from './runner';
import { isLive, isTerminal, type LiveRunnerState } from './runner-state';

/** What a session's activity (from the agent's Claude Code hooks) does to a runner. */
export type ActivityDecision =
  /** Move to `to` (`running`, `waiting` or `idle`) and keep the activity. */
  | { readonly kind: 'move'; readonly to: LiveRunnerState; readonly activity: SessionActivity }
  /** Keep the newer activity; the state stays (already there, or the runner is stopping). */
  | { readonly kind: 'record'; readonly activity: SessionActivity }
  /** Nothing to do: no activity, an older one, or a runner that ended. */
  | { readonly kind: 'ignore'; readonly why: string };

/** The runner state an activity stands for. */
export function stateOfActivity(activity: SessionActivity): LiveRunnerState {
  switch (activity.state) {
    case 'working':
      return 'running';
    case 'waiting':
      return 'waiting';
    case 'idle':
      return 'idle';
  }
}

/**
 * Decides what `activity` (the latest a `session.reported` carried) does to `runner`. Snapshots
 * may arrive late or twice: an activity no newer (by `since`) than the one the runner holds
 * changes nothing, so each change is applied once and an older one never undoes a newer one.
 * Only a live runner (`running`, `waiting`, `idle`) moves. A stopping runner keeps the activity
 * without moving; so does a runner not yet running (its first heartbeat not booked), which
 * moves on to the activity's state right after `running` ({@link heldActivityState}).
 */
export function decideActivity(
  runner: Pick<Runner, 'state' | 'activity'>,
  activity: SessionActivity | undefined,
): ActivityDecision {
  if (activity === undefined) return { kind: 'ignore', why: 'no activity in the snapshot' };
  if (isTerminal(runner.state)) return { kind: 'ignore', why: `runner already ${runner.state}` };
  const held = runner.activity ?? null;
  if (held !== null && Date.parse(activity.since) <= Date.parse(held.since)) {
    return { kind: 'ignore', why: `activity of ${activity.since} is not newer than ${held.since}` };
  }
  const to = stateOfActivity(activity);
  if (isLive(runner.state)) {
    return to === runner.state ? { kind: 'record', activity } : { kind: 'move', to, activity };
  }
  return { kind: 'record', activity };
}

/**
 * The state a runner that just became `running` moves on to, from an activity it held while it
 * was starting (Claude Code was idle or waiting before its first heartbeat was booked); null
 * when it stays `running`.
 */
export function heldActivityState(
  runner: Pick<Runner, 'state' | 'activity'>,
): Exclude<LiveRunnerState, 'running'> | null {
  if (runner.state !== 'running' || !runner.activity) return null;
  const to = stateOfActivity(runner.activity);
  return to === 'running' ? null : to;
}

/** How long a runner was `waiting` or `idle` before `activity` (0 when unknown). */
export function waitedMs(
  held: SessionActivity | null | undefined,
  activity: SessionActivity,
): number {
  if (!held) return 0;
  return Math.max(0, Date.parse(activity.since) - Date.parse(held.since));
}
