import {
  cacheCreationTokens,
  costOf,
  DEFAULT_PRICING_TABLE,
  type PricingTable,
  type RunOutcome,
  StreamJsonRun,
} from '@stratavore/claude-code';
import {
  type HeartbeatCounters,
  type HeartbeatSession,
  type ModelUsage,
  type SessionResult,
  ZERO_HEARTBEAT_COUNTERS,
} from '@stratavore/contracts/heartbeat';

import { type AgentLogger } from './agent-logger';
import { type ClaudeHeadlessCommand } from './claude-command';
import { type ClaudeHookInput } from './claude-hooks';
import { ClaudeSessionActivity } from './claude-session-activity';
import { type LineSink } from './line-splitter';
import { type UsageSource } from './usage-source';

/** Finds the session's transcript file on this machine; null when it is not there (yet). */
export type TranscriptLocator = (cwd: string, sessionId: string) => string | null;

export interface ClaudeHeadlessUsageSourceOptions {
  readonly command: ClaudeHeadlessCommand;
  /** The child's working directory, until `system/init` names the session's own. */
  readonly cwd: string;
  readonly pricing?: PricingTable;
  readonly locateTranscript?: TranscriptLocator;
  /** Told once, when stdout ends, of lines it could not read and models it could not price. */
  readonly logger?: AgentLogger;
}

/** The contract's limit on a model id; longer ids are cut (none is this long in practice). */
const MODEL_KEY_MAX = 128;

/**
 * Usage of a `claude -p --output-format stream-json` child, read from its stdout line by line
 * (the launcher tees stdout into {@link line} and still writes it to the log). Gives the
 * heartbeat its session id, the four cumulative counters and the optional session snapshot
 * (models, turns, cost, result).
 *
 * The counters only grow: each one is the highest value it has had, so a figure revised down
 * (which the accounting does not do, but a counter must never do) cannot make heartbeat-ingest
 * see a reset.
 */
export class ClaudeHeadlessUsageSource implements UsageSource, LineSink {
  readonly run: StreamJsonRun;
  private highWater: HeartbeatCounters = { ...ZERO_HEARTBEAT_COUNTERS };
  private transcriptPath: string | null = null;
  private ended = false;
  /** From Claude Code's hooks, when the agent installed them (headless: never idle). */
  readonly activity = new ClaudeSessionActivity('headless');
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly options: ClaudeHeadlessUsageSourceOptions) {
    this.run = new StreamJsonRun({ resumed: options.command.resumed, origin: 'stdout' });
  }

  line(text: string): void {
    this.run.feedLine(text);
  }

  /** One Claude Code hook input (the agent's hook listener). */
  hook(input: ClaudeHookInput): void {
    if (this.activity.hook(input)) for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  overflow(bytes: number): void {
    this.run.ledger.noteMalformed({
      source: 'stream-json',
      origin: 'stdout',
      lineNumber: 0,
      reason: `line of ${bytes} bytes dropped (too long to parse)`,
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.run.end();
    const logger = this.options.logger;
    if (logger === undefined) return;
    const malformed = this.run.ledger.malformed();
    if (malformed.count > 0) {
      logger.warn(
        { count: malformed.count, first: malformed.first.slice(0, 5) },
        'some Claude stream-json lines could not be read; their usage is not counted',
      );
    }
    const { unknownModels } = costOf(this.run.finalUsageByModel(), this.pricing());
    if (unknownModels.length > 0) {
      logger.warn(
        { models: unknownModels },
        'no price for these models: the session cost is unknown (STRATAVORE_CLAUDE_PRICING adds prices)',
      );
    }
  }

  private pricing(): PricingTable {
    return this.options.pricing ?? DEFAULT_PRICING_TABLE;
  }

  sessionId(): string | null {
    return this.run.sessionId();
  }

  counters(): HeartbeatCounters {
    const totals = this.run.finalTotals();
    const current: HeartbeatCounters = {
      inputTokens: totals.inputTokens,
      outputTokens: totals.outputTokens,
      cacheCreationTokens: cacheCreationTokens(totals),
      cacheReadTokens: totals.cacheReadTokens,
    };
    this.highWater = {
      inputTokens: Math.max(this.highWater.inputTokens, current.inputTokens),
      outputTokens: Math.max(this.highWater.outputTokens, current.outputTokens),
      cacheCreationTokens: Math.max(
        this.highWater.cacheCreationTokens,
        current.cacheCreationTokens,
      ),
      cacheReadTokens: Math.max(this.highWater.cacheReadTokens, current.cacheReadTokens),
    };
    return { ...this.highWater };
  }

  session(): HeartbeatSession | undefined {
    const sessionId = this.run.sessionId();
    if (sessionId === null) return undefined;
    const byModel = this.run.finalUsageByModel();
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
    const cwd = this.run.init()?.cwd ?? this.options.cwd;
    const outcome = this.run.outcome();
    const activity = this.activity.activity();
    return {
      sessionId,
      models,
      turns: this.run.turns(),
      costUsd: costOf(byModel, this.pricing()).totalUsd,
      reportedCostUsd: this.run.reported()?.totalCostUsd ?? null,
      cwd: cwd === '' ? null : cwd,
      transcriptPath: this.locateTranscript(cwd, sessionId),
      resumedFrom: this.options.command.resumedFrom,
      // A headless run never idles; it waits only if a hook said so (a prompt it cannot show).
      waitingForInput: activity !== null && activity.state !== 'working',
      ...(activity === null ? {} : { activity }),
      result: outcome === null ? null : sessionResult(outcome),
    };
  }

  private locateTranscript(cwd: string, sessionId: string): string | null {
    if (this.transcriptPath === null && this.options.locateTranscript !== undefined) {
      this.transcriptPath = this.options.locateTranscript(cwd, sessionId);
    }
    return this.transcriptPath;
  }
}

/**
 * The contract's result. `subtype` is Claude Code's, or the outcome's name when it gave none
 * (`incomplete`: the stream ended without a result; `usage_limit` seen without a result).
 */
function sessionResult(outcome: RunOutcome): SessionResult {
  return {
    subtype: outcome.subtype ?? outcome.kind,
    isError: outcome.isError,
    resumable: outcome.resumable,
    resumeAt: outcome.resetsAt === null ? null : outcome.resetsAt.toISOString(),
  };
}
