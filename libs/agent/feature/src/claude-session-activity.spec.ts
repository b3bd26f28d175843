import { type ClaudeHookInput } from './claude-hooks';
import { ClaudeSessionActivity } from './claude-session-activity';

const SESSION = '0b8f3c1e-5d7a-4c2b-9e4f-1a2b3c4d5e6f';

function hook(name: string, fields: Partial<ClaudeHookInput> = {}): ClaudeHookInput {
  return { hook_event_name: name, session_id: SESSION, ...fields };
}

/** A clock that moves one second per reading. */
function ticking(): () => Date {
  let second = 0;
  return () => new Date(Date.UTC(2026, 10, 24, 10, 0, second++));
}

describe('ClaudeSessionActivity (interactive)', () => {
  it('goes idle at start and after a turn, waits on a prompt, works on a prompt or a tool', () => {
    const activity = new ClaudeSessionActivity('interactive', ticking());
    expect(activity.activity()).toBeNull();

    expect(activity.hook(hook('SessionStart', { source: 'startup' }))).toBe(true);
    expect(activity.activity()).toMatchObject({ state: 'idle', reason: 'SessionStart' });
    expect(activity.hook(hook('UserPromptSubmit'))).toBe(true);
    expect(activity.activity()).toMatchObject({ state: 'working', reason: 'UserPromptSubmit' });
    // Tool after tool: still working, nothing to report.
    expect(activity.hook(hook('PostToolUse'))).toBe(false);

    const prompt = {
      notification_type: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
    };
    expect(activity.hook(hook('Notification', prompt))).toBe(true);
    expect(activity.activity()).toEqual({
      state: 'waiting',
      reason: 'permission_prompt',
      message: 'Claude needs your permission to use Bash',
      since: '2026-11-24T10:00:02.000Z',
    });
    expect(activity.hook(hook('Notification', prompt))).toBe(false);
    // Approved: the tool runs.
    expect(activity.hook(hook('PostToolUse'))).toBe(true);
    expect(activity.activity()).toMatchObject({ state: 'working', reason: 'PostToolUse' });
    expect(activity.hook(hook('Stop'))).toBe(true);
    expect(activity.activity()).toMatchObject({ state: 'idle', reason: 'Stop' });
    // The reminder a minute later is the same wait.
    expect(activity.hook(hook('Notification', { notification_type: 'idle_prompt' }))).toBe(false);
    expect(activity.activity()?.state).toBe('idle');
  });

  it('takes a second wait (a question after a prompt) and ignores other notifications', () => {
    const activity = new ClaudeSessionActivity('interactive', ticking());
    activity.hook(hook('UserPromptSubmit'));
    expect(activity.hook(hook('Notification', { notification_type: 'auth_success' }))).toBe(false);
    expect(activity.hook(hook('Notification', { notification_type: 'permission_prompt' }))).toBe(
      true,
    );
    expect(
      activity.hook(
        hook('Notification', { notification_type: 'elicitation_dialog', message: 'q?' }),
      ),
    ).toBe(true);
    expect(activity.activity()).toMatchObject({ reason: 'elicitation_dialog', message: 'q?' });
  });

  it("ignores subagents' hooks and a compaction, and keeps since growing", () => {
    const frozen = new Date(Date.UTC(2026, 10, 24, 10, 0, 0));
    const activity = new ClaudeSessionActivity('interactive', () => frozen);
    activity.hook(hook('UserPromptSubmit'));
    expect(activity.hook(hook('Stop', { agent_id: 'a2898e3' }))).toBe(false);
    expect(activity.hook(hook('SessionStart', { source: 'compact' }))).toBe(false);
    expect(activity.hook(hook('Stop'))).toBe(true);
    // Same clock reading: one millisecond later, so runner-manager can order the two.
    expect(activity.activity()?.since).toBe('2026-11-24T10:00:00.001Z');
  });

  it('names the sessions it was told of, and counts hooks', () => {
    const activity = new ClaudeSessionActivity('interactive', ticking());
    activity.hook(hook('SessionStart', { source: 'startup', transcript_path: '/c/a.jsonl' }));
    activity.hook(hook('SessionEnd', { reason: 'clear' }));
    activity.hook(
      hook('SessionStart', {
        session_id: 'second',
        source: 'clear',
        transcript_path: '/c/b.jsonl',
      }),
    );
    expect(activity.startedSessions()).toEqual([
      { sessionId: SESSION, transcriptPath: '/c/a.jsonl', source: 'startup' },
      { sessionId: 'second', transcriptPath: '/c/b.jsonl', source: 'clear' },
    ]);
    expect(activity.hasEnded(SESSION)).toBe(true);
    expect(activity.hasEnded('second')).toBe(false);
    expect(activity.hookCounts()).toEqual({ SessionStart: 2, SessionEnd: 1 });
  });
});

describe('ClaudeSessionActivity (headless)', () => {
  it('never goes idle: a -p run ends with its turn', () => {
    const activity = new ClaudeSessionActivity('headless', ticking());
    expect(activity.hook(hook('SessionStart', { source: 'startup' }))).toBe(false);
    expect(activity.hook(hook('UserPromptSubmit'))).toBe(true);
    expect(activity.hook(hook('Stop'))).toBe(false);
    expect(activity.activity()).toMatchObject({ state: 'working' });
    expect(activity.hookCounts()).toEqual({ SessionStart: 1, UserPromptSubmit: 1, Stop: 1 });
  });
});
