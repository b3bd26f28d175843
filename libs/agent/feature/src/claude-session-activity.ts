import { type SessionActivity } from '@stratavore/contracts/heartbeat';

import { type ClaudeHookInput } from './claude-hooks';

/**
 * Notification types that mean Claude Code waits for a person: a permission prompt (its own, or
 * a teammate's), an MCP server's question, the reminder after a minute of silence.
 */
const WAITING_NOTIFICATIONS = new Set([
  'permission_prompt',
  'worker_permission_prompt',
  'elicitation_dialog',
  'idle_prompt',
]);

/** Longest notification text kept (the contract's limit). */
const MAX_MESSAGE_CHARS = 1000;

/** How the session is run: a headless `-p` run ends with its turn; an interactive one waits. */
export type ClaudeSessionMode = 'headless' | 'interactive';

/** A session Claude Code started, as its SessionStart hook told it. */
export interface HookedSession {
  readonly sessionId: string;
  readonly transcriptPath: string | null;
  /** `startup`, `resume`, `clear`, `compact`. */
  readonly source: string | null;
}

/**
 * The activity of a Claude Code session, from its hooks (docs/claude-code.md, "Hooks"):
 * - `waiting` on a Notification that needs a person (permission prompt, question, idle reminder;
 *   the reminder does not wake an `idle` session: it is the same wait);
 * - `working` again on UserPromptSubmit or PostToolUse (an approved tool ran);
 * - `idle` on Stop (the turn finished) and on SessionStart (the prompt box waits), in an
 *   interactive session only: a headless run ends right after its turn, and its runner's end
 *   says so;
 * - SessionStart/SessionEnd also name the session and its transcript.
 * Subagents' hooks (with an `agent_id`) never change the activity: the main loop's do.
 * `activity()` is null until a hook changed it, so a session without hooks reports none.
 */
export class ClaudeSessionActivity {
  private current: SessionActivity | null = null;
  private readonly counts = new Map<string, number>();
  private readonly sessions: HookedSession[] = [];
  private readonly ended = new Set<string>();

  constructor(
    private readonly mode: ClaudeSessionMode,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Takes one hook input; true when the activity changed. */
  hook(input: ClaudeHookInput): boolean {
    const event = input.hook_event_name;
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
    if (event === 'SessionStart' && input.session_id !== undefined) {
      this.sessions.push({
        sessionId: input.session_id,
        transcriptPath: input.transcript_path ?? null,
        source: input.source ?? null,
      });
    }
    if (event === 'SessionEnd' && input.session_id !== undefined) this.ended.add(input.session_id);
    if (input.agent_id !== undefined) return false;
    switch (event) {
      case 'Notification': {
        const type = input.notification_type ?? 'notification';
        if (!WAITING_NOTIFICATIONS.has(type)) return false;
        if (type === 'idle_prompt' && this.current?.state === 'idle') return false;
        return this.become('waiting', type, input.message ?? null);
      }
      case 'UserPromptSubmit':
      case 'PostToolUse':
        return this.become('working', event, null);
      case 'Stop':
        return this.mode === 'interactive' ? this.become('idle', event, null) : false;
      case 'SessionStart':
        return this.mode === 'interactive' && input.source !== 'compact'
          ? this.become('idle', event, null)
          : false;
      default:
        return false;
    }
  }

  /** The latest activity; null while no hook changed it. */
  activity(): SessionActivity | null {
    return this.current;
  }

  /** The sessions SessionStart named, oldest first (a `/clear` starts another). */
  startedSessions(): readonly HookedSession[] {
    return this.sessions;
  }

  /** True once SessionEnd named `sessionId`. */
  hasEnded(sessionId: string): boolean {
    return this.ended.has(sessionId);
  }

  /** Hook calls received, by event name. */
  hookCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /**
   * A change of state, or another wait (a question after a permission prompt). Working on, tool
   * after tool, changes nothing: the snapshot stays equal and costs no event. `since` only grows,
   * so runner-manager can order changes by it.
   */
  private become(state: SessionActivity['state'], reason: string, message: string | null): boolean {
    const current = this.current;
    const text = message === null ? null : message.slice(0, MAX_MESSAGE_CHARS);
    if (current !== null && current.state === state) {
      if (state !== 'waiting' || (current.reason === reason && current.message === text)) {
        return false;
      }
    }
    let at = this.now().getTime();
    if (current !== null) at = Math.max(at, Date.parse(current.since) + 1);
    this.current = {
      state,
      reason: reason.slice(0, 64),
      message: text,
      since: new Date(at).toISOString(),
    };
    return true;
  }
}
