import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

import {
  cacheCreationTokens,
  costOf,
  DEFAULT_PRICING_TABLE,
  encodeProjectDirectory,
  type PricingTable,
  type TokenUsage,
  transcriptRelativePath,
  ZERO_TOKEN_USAGE,
} from '@stratavore/claude-code';
import {
  type HeartbeatCounters,
  type HeartbeatSession,
  type ModelUsage,
  ZERO_HEARTBEAT_COUNTERS,
} from '@stratavore/contracts/heartbeat';

import { type AgentLogger } from './agent-logger';
import { type ClaudeHookInput } from './claude-hooks';
import { ClaudeSessionActivity, type ClaudeSessionMode } from './claude-session-activity';
import { SessionTranscripts } from './claude-transcript-follower';
import { type UsageSource } from './usage-source';

/** The contract's limit on a model id. */
const MODEL_KEY_MAX = 128;

export interface ClaudeInteractiveUsageSourceOptions {
  /** Where Claude Code runs: its transcripts are under `projects/<encoded cwd>/`. */
  readonly cwd: string;
  /** `$CLAUDE_CONFIG_DIR` of the child, else `~/.claude`. */
  readonly configDir: string;
  /** The session the command line fixes (`--session-id`, `--resume <id>`), if any. */
  readonly sessionId: string | null;
  /** `--resume <id>`: the session continued (a fork's parent). */
  readonly resumedFrom: string | null;
  /** `headless` for a `claude -p` run in the terminal: its Stop ends it rather than idling. */
  readonly mode?: ClaudeSessionMode;
  readonly pricing?: PricingTable;
  readonly logger?: AgentLogger;
  /** When the agent started: without a known session, a transcript written since is the one. */
  readonly startedAt?: Date;
  readonly now?: () => Date;
}

/**
 * Usage of an interactive Claude Code session (`stratavore run`), read from its transcript files
 * under the Claude config directory, and its activity from its hooks.
 *
 * - The session: the one the command line fixes, else the one the SessionStart hook names,
 *   else the newest transcript of the project directory written since the agent started. A
 *   `/clear` starts another session (SessionStart `clear`): the agent follows the new one and
 *   keeps the old one's usage in the counters.
 * - Counters: the sum of every followed session's part (its ledger minus what its files held when
 *   the agent started following them), each kept at its highest value.
 * - Files are read when a heartbeat is built (`counters()` / `session()`), so the final report
 *   carries every line written before the child exited.
 * - A hook that changes the activity (waiting, idle, working) calls the change listeners: the
 *   supervisor then sends a heartbeat at once.
 */
export class ClaudeInteractiveUsageSource implements UsageSource {
  readonly activity: ClaudeSessionActivity;
  private readonly sessions = new Map<string, SessionTranscripts>();
  private current: SessionTranscripts | null = null;
  private highWater: HeartbeatCounters = { ...ZERO_HEARTBEAT_COUNTERS };
  private readonly listeners: Array<() => void> = [];
  private readonly startedAt: number;

  constructor(private readonly options: ClaudeInteractiveUsageSourceOptions) {
    this.activity = new ClaudeSessionActivity(options.mode ?? 'interactive', options.now);
    this.startedAt = (options.startedAt ?? new Date()).getTime();
    if (options.sessionId !== null) this.follow(options.sessionId, null, false);
  }

  /** One hook input (from the hook listener). */
  hook(input: ClaudeHookInput): void {
    const changed = this.activity.hook(input);
    if (
      input.hook_event_name === 'SessionStart' &&
      input.session_id !== undefined &&
      input.agent_id === undefined
    ) {
      // A session started here (`startup`, `clear`) is all this runner's; a resumed one is not.
      const started = input.source === 'startup' || input.source === 'clear';
      const switched = this.follow(input.session_id, input.transcript_path ?? null, started);
      if (switched) {
        this.options.logger?.info(
          { sessionId: input.session_id, source: input.source ?? null },
          'following the Claude Code session',
        );
      }
      if (switched || changed) this.notify();
      return;
    }
    if (changed) this.notify();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  sessionId(): string | null {
    this.refresh();
    return this.current?.sessionId ?? null;
  }

  counters(): HeartbeatCounters {
    this.refresh();
    let sum: TokenUsage = ZERO_TOKEN_USAGE;
    for (const session of this.sessions.values()) {
      const part = session.totals();
      sum = {
        inputTokens: sum.inputTokens + part.inputTokens,
        outputTokens: sum.outputTokens + part.outputTokens,
        cacheCreation5mTokens: sum.cacheCreation5mTokens + part.cacheCreation5mTokens,
        cacheCreation1hTokens: sum.cacheCreation1hTokens + part.cacheCreation1hTokens,
        cacheReadTokens: sum.cacheReadTokens + part.cacheReadTokens,
        webSearchRequests: sum.webSearchRequests + part.webSearchRequests,
      };
    }
    this.highWater = {
      inputTokens: Math.max(this.highWater.inputTokens, sum.inputTokens),
      outputTokens: Math.max(this.highWater.outputTokens, sum.outputTokens),
      cacheCreationTokens: Math.max(this.highWater.cacheCreationTokens, cacheCreationTokens(sum)),
      cacheReadTokens: Math.max(this.highWater.cacheReadTokens, sum.cacheReadTokens),
    };
    return { ...this.highWater };
  }

  session(): HeartbeatSession | undefined {
    this.refresh();
    const session = this.current;
    if (session === null) return undefined;
    const byModel = session.byModel();
    const models: Record<string, ModelUsage> = {};
    for (const [model, { usage }] of Object.entries(byModel)) {
      models[model.slice(0, MODEL_KEY_MAX)] = {
        input: usage.inputTokens,
        output: usage.outputTokens,
        cacheCreation5m: usage.cacheCreation5mTokens,
        cacheCreation1h: usage.cacheCreation1hTokens,
        cacheRead: usage.cacheReadTokens,
        webSearchRequests: usage.webSearchRequests,
      };
    }
    const activity = this.activity.activity();
    return {
      sessionId: session.sessionId,
      models,
      turns: session.turns(),
      costUsd: costOf(byModel, this.options.pricing ?? DEFAULT_PRICING_TABLE).totalUsd,
      reportedCostUsd: null,
      cwd: this.options.cwd,
      transcriptPath: session.exists() ? session.transcriptPath : null,
      resumedFrom: this.options.resumedFrom,
      waitingForInput: activity !== null && activity.state !== 'working',
      ...(activity === null ? {} : { activity }),
      result: null,
    };
  }

  /** Logs what could not be read, once the child has exited. */
  end(): void {
    const logger = this.options.logger;
    if (logger === undefined) return;
    for (const session of this.sessions.values()) {
      const malformed = session.ledger.malformed();
      if (malformed.count > 0) {
        logger.warn(
          {
            sessionId: session.sessionId,
            count: malformed.count,
            first: malformed.first.slice(0, 5),
          },
          'some transcript lines could not be read; their usage is not counted',
        );
      }
    }
    const { unknownModels } = costOf(
      Object.assign({}, ...[...this.sessions.values()].map((s) => s.byModel())) as Record<
        string,
        { usage: TokenUsage; longContextUsage: TokenUsage }
      >,
      this.options.pricing ?? DEFAULT_PRICING_TABLE,
    );
    if (unknownModels.length > 0) {
      logger.warn(
        { models: unknownModels },
        'no price for these models: the session cost is unknown (STRATAVORE_CLAUDE_PRICING adds prices)',
      );
    }
  }

  /**
   * Makes `sessionId` the current session; true when it was not already. Its files count from
   * their first line when `countExisting`, else from what they hold now.
   */
  private follow(
    sessionId: string,
    transcriptPath: string | null,
    countExisting: boolean,
  ): boolean {
    let session = this.sessions.get(sessionId);
    if (session === undefined) {
      const path =
        transcriptPath ??
        join(this.options.configDir, transcriptRelativePath(this.options.cwd, sessionId));
      const parent = this.options.resumedFrom;
      // A fork (another id than the session it resumed) repeats its parent's responses.
      const baseline =
        parent !== null && parent !== sessionId
          ? [join(this.options.configDir, transcriptRelativePath(this.options.cwd, parent))]
          : [];
      session = new SessionTranscripts(sessionId, path, { baselineFiles: baseline, countExisting });
      this.sessions.set(sessionId, session);
    }
    const switched = this.current !== session;
    this.current = session;
    return switched;
  }

  private refresh(): void {
    if (this.current === null) this.discover();
    for (const session of this.sessions.values()) session.refresh();
  }

  /** Without a known session: the newest transcript of the project written since the start. */
  private discover(): void {
    const dir = join(this.options.configDir, 'projects', encodeProjectDirectory(this.options.cwd));
    let newest: { id: string; path: string; mtime: number; born: number } | null = null;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const path = join(dir, name);
      try {
        const { mtimeMs: mtime, birthtimeMs: born } = statSync(path);
        if (mtime >= this.startedAt && (newest === null || mtime > newest.mtime)) {
          newest = { id: basename(name, '.jsonl'), path, mtime, born };
        }
      } catch {
        // Removed meanwhile.
      }
    }
    // A file made since the start is this runner's session; an older one was continued.
    if (newest !== null) this.follow(newest.id, newest.path, newest.born >= this.startedAt);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
