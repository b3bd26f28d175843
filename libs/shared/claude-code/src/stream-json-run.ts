import { SYNTHETIC_MODEL, UNKNOWN_MODEL } from './api-response';
import { type TieredUsage } from './cost';
import {
  type ModelUsageEntry,
  readResultModelUsage,
  readResultUsage,
  type StreamInitEvent,
  type StreamJsonLineRead,
  type StreamRateLimitEvent,
  type StreamResultEvent,
} from './stream-json';
import { addUsage, maxUsage, type TokenUsage, ZERO_TOKEN_USAGE } from './token-usage';
import { UsageLedger } from './usage-ledger';
import { epochToDate, findUsageLimitNotice } from './usage-limit';

/** How a headless run ended. */
export type RunOutcomeKind =
  | 'success'
  /** `error_max_turns`: resumable with more turns. */
  | 'max_turns'
  /** `error_max_budget_usd`: resumable with more budget. */
  | 'max_budget'
  /** The subscription's usage limit: resumable after `resetsAt`. */
  | 'usage_limit'
  /** `error_during_execution` or any other error. */
  | 'error'
  /** The stream ended without a `result` event (the CLI crashed or was killed). */
  | 'incomplete';

export interface RunOutcome {
  readonly kind: RunOutcomeKind;
  /** Terminal, but `claude --resume <session>` can go on (max turns, max budget, usage limit). */
  readonly resumable: boolean;
  /** When a usage limit resets, if known. */
  readonly resetsAt: Date | null;
  /** `result.subtype` as given (null when absent or no result). */
  readonly subtype: string | null;
  readonly isError: boolean;
}

/** Where a usage limit was seen. */
export interface UsageLimitSighting {
  readonly resetsAt: Date | null;
  readonly source: 'result' | 'assistant' | 'rate_limit_event';
  /** `five_hour`, `seven_day`, ... from a `rate_limit_event`. */
  readonly rateLimitType: string | null;
}

/** Claude Code's own figures from the `result` event. */
export interface ReportedUsage {
  /** `total_cost_usd`. */
  readonly totalCostUsd: number | null;
  /** `usage`: the main loop's usage. */
  readonly usage: TokenUsage | null;
  /** `modelUsage`: every API call of the process, per model, with Claude Code's `costUSD`. */
  readonly models: Readonly<
    Record<string, { readonly usage: TokenUsage; readonly costUsd: number | null }>
  > | null;
}

/**
 * The first Claude Code version reported to restore a resumed session's saved totals into a new
 * process (so its `result` figures include earlier runs). Earlier versions count one process
 * only (observed with 2.1.112: docs/claude-code.md).
 */
export const RESUME_RESTORES_TOTALS_FROM_VERSION = '2.1.277';

export interface StreamJsonRunOptions {
  /**
   * The process resumed an earlier session (`--resume`, `--continue`). From
   * {@link RESUME_RESTORES_TOTALS_FROM_VERSION} on (or when the version is unknown) the `result`
   * figures may include earlier runs: they are still reported, but not merged into
   * {@link StreamJsonRun.finalUsageByModel}.
   */
  readonly resumed?: boolean;
  /** Names the stream in the report of malformed lines. Default `stdout`. */
  readonly origin?: string;
}

const RESUMABLE: ReadonlySet<RunOutcomeKind> = new Set(['max_turns', 'max_budget', 'usage_limit']);

/**
 * The state of one `claude -p --output-format stream-json --verbose` process, built from its
 * stdout lines: session id and model (`system/init`), de-duplicated usage (`assistant` events,
 * and `stream_event` partial messages when `--include-partial-messages` is on), turns, cost,
 * outcome and usage limits (`result`, `rate_limit_event`).
 *
 * Two usage figures are kept: the ledger's (the running figure, de-duplicated per response) and
 * Claude Code's own from the `result` event. {@link finalUsageByModel} merges them: the larger of
 * the two, kind by kind and model by model, because `assistant` events can be written before a
 * response's final `output_tokens` is known, while `modelUsage` also counts calls that are not
 * streamed (small side requests). On a resumed process only the ledger counts (see options).
 */
export class StreamJsonRun {
  readonly ledger: UsageLedger;
  private readonly resumed: boolean;
  private readonly origin: string;
  private initEvent: StreamInitEvent | null = null;
  private resultEvent: StreamResultEvent | null = null;
  private reportedUsage: ReportedUsage | null = null;
  private rateLimit: StreamRateLimitEvent['rate_limit_info'] | null = null;
  private limit: UsageLimitSighting | null = null;
  private firstSessionId: string | null = null;
  private firstModel: string | null = null;
  private readonly topLevelResponses = new Set<string>();
  private ended = false;
  private readonly problems: string[] = [];

  constructor(options: StreamJsonRunOptions = {}, ledger: UsageLedger = new UsageLedger()) {
    this.ledger = ledger;
    this.resumed = options.resumed ?? false;
    this.origin = options.origin ?? 'stdout';
  }

  /** Reads one stdout line. Never throws; a malformed line is counted in the ledger. */
  feedLine(text: string): StreamJsonLineRead {
    const read = this.ledger.addStreamJsonLine(text, this.origin);
    switch (read.kind) {
      case 'init':
        this.initEvent ??= read.event;
        this.firstSessionId ??= read.event.session_id;
        break;
      case 'assistant': {
        const { response } = read;
        this.firstSessionId ??= response.sessionId;
        if (response.model !== null && response.model !== SYNTHETIC_MODEL) {
          this.firstModel ??= response.model;
        }
        if (!response.sidechain && response.model !== SYNTHETIC_MODEL) {
          this.topLevelResponses.add(
            response.messageId ?? response.lineId ?? `#${this.topLevelResponses.size}`,
          );
        }
        const trusted = response.model === SYNTHETIC_MODEL;
        for (const text of read.texts) {
          const notice = findUsageLimitNotice(text, trusted);
          if (notice !== null) {
            this.limit = { resetsAt: notice.resetsAt, source: 'assistant', rateLimitType: null };
          }
        }
        break;
      }
      case 'result':
        this.onResult(read.event);
        break;
      case 'rate-limit': {
        const info = read.event.rate_limit_info;
        this.rateLimit = info;
        if (info.status === 'rejected') {
          this.limit = {
            resetsAt:
              info.resetsAt === null || info.resetsAt === undefined
                ? null
                : epochToDate(info.resetsAt),
            source: 'rate_limit_event',
            rateLimitType: info.rateLimitType ?? null,
          };
        }
        break;
      }
      case 'message-start':
        this.firstModel ??= read.response.model;
        break;
      case 'message-delta':
      case 'ignored':
      case 'malformed':
      case 'blank':
        break;
    }
    return read;
  }

  /** The stream closed: without a `result` the outcome is `incomplete` (or `usage_limit`). */
  end(): void {
    this.ended = true;
  }

  /** Claude's session id: from `system/init`, else from the first event that carried one. */
  sessionId(): string | null {
    return (
      this.initEvent?.session_id ?? this.firstSessionId ?? this.resultEvent?.session_id ?? null
    );
  }

  /** The session's model: from `system/init`, else the first response's. */
  model(): string | null {
    return this.initEvent?.model ?? this.firstModel;
  }

  init(): StreamInitEvent | null {
    return this.initEvent;
  }

  result(): StreamResultEvent | null {
    return this.resultEvent;
  }

  /** The last `rate_limit_event`'s info (`allowed`, `allowed_warning`, `rejected`). */
  lastRateLimit(): StreamRateLimitEvent['rate_limit_info'] | null {
    return this.rateLimit;
  }

  /** The usage limit that stopped (or is stopping) the run, if any. */
  usageLimit(): UsageLimitSighting | null {
    return this.limit;
  }

  /** `result.num_turns`, else the number of main-loop API responses so far. */
  turns(): number {
    return this.resultEvent?.num_turns ?? this.topLevelResponses.size;
  }

  /** null while the run goes on (no `result` yet and the stream is open). */
  outcome(): RunOutcome | null {
    const result = this.resultEvent;
    if (result === null) {
      if (!this.ended) return null;
      return this.limit === null
        ? outcome('incomplete', null, true, null)
        : outcome('usage_limit', null, true, this.limit.resetsAt);
    }
    const subtype = result.subtype ?? null;
    const isError = result.is_error === true;
    if (subtype === 'error_max_turns') return outcome('max_turns', subtype, true, null);
    if (subtype === 'error_max_budget_usd') return outcome('max_budget', subtype, true, null);
    const limit = this.limit;
    if (
      limit !== null &&
      (limit.source === 'result' || isError || (subtype !== null && subtype !== 'success'))
    ) {
      return outcome('usage_limit', subtype, isError, limit.resetsAt);
    }
    if (isError || (subtype !== null && subtype !== 'success')) {
      return outcome('error', subtype, true, null);
    }
    return outcome('success', subtype, false, null);
  }

  /** Claude Code's own figures, once the `result` event arrived. */
  reported(): ReportedUsage | null {
    return this.reportedUsage;
  }

  /**
   * Usage per model for accounting: the ledger's, raised kind by kind to Claude Code's
   * `modelUsage` (or, without it, `result.usage` for the session's model) unless the process
   * resumed a session. Never below the ledger, so counters built from it only grow.
   */
  finalUsageByModel(): Record<string, TieredUsage> {
    const final: Record<string, TieredUsage> = {};
    for (const [model, totals] of Object.entries(this.ledger.byModel())) {
      final[model] = { usage: totals.usage, longContextUsage: totals.longContextUsage };
    }
    const reported = this.reportedUsage;
    if (reported === null || !this.reportedCoversThisProcessOnly()) return final;
    const raise = (model: string, usage: TokenUsage) => {
      const current = final[model];
      final[model] = {
        usage: current === undefined ? usage : maxUsage(current.usage, usage),
        longContextUsage: current?.longContextUsage ?? ZERO_TOKEN_USAGE,
      };
    };
    if (reported.models !== null) {
      for (const [model, entry] of Object.entries(reported.models)) raise(model, entry.usage);
    } else if (reported.usage !== null) {
      raise(this.mainModel(), reported.usage);
    }
    return final;
  }

  /** The sum of {@link finalUsageByModel}. */
  finalTotals(): TokenUsage {
    return Object.values(this.finalUsageByModel()).reduce(
      (sum, model) => addUsage(sum, model.usage),
      ZERO_TOKEN_USAGE,
    );
  }

  /**
   * Whether the `result` figures count this process only, so they may be merged: always for a
   * new session; for a resumed one only with a CLI version known not to restore earlier totals.
   */
  reportedCoversThisProcessOnly(): boolean {
    if (!this.resumed) return true;
    const version = this.initEvent?.claude_code_version;
    return (
      typeof version === 'string' &&
      compareVersions(version, RESUME_RESTORES_TOTALS_FROM_VERSION) < 0
    );
  }

  /** Parts of the `result` event that could not be read (the rest of it was). */
  issues(): readonly string[] {
    return [...this.problems];
  }

  private onResult(event: StreamResultEvent): void {
    this.resultEvent = event;
    this.firstSessionId ??= event.session_id ?? null;
    const usage = readResultUsage(event);
    const models = readResultModelUsage(event);
    for (const issue of [usage.issue, models.issue]) if (issue !== null) this.problems.push(issue);
    this.reportedUsage = {
      totalCostUsd: event.total_cost_usd ?? null,
      usage: usage.usage,
      models: models.modelUsage === null ? null : this.convertModelUsage(models.modelUsage),
    };
    const text = event.result;
    if (typeof text === 'string') {
      const notice = findUsageLimitNotice(text, event.is_error === true);
      if (notice !== null) {
        this.limit = {
          resetsAt: notice.resetsAt ?? this.limit?.resetsAt ?? null,
          source: 'result',
          rateLimitType: this.limit?.rateLimitType ?? null,
        };
      }
    }
  }

  /**
   * `modelUsage` has one cache-creation figure; its 1-hour part is taken from the ledger (what
   * the stream showed for that model), the rest counts as 5-minute writes.
   */
  private convertModelUsage(
    modelUsage: Readonly<Record<string, ModelUsageEntry>>,
  ): NonNullable<ReportedUsage['models']> {
    const ledger = this.ledger.byModel();
    const converted: Record<string, { usage: TokenUsage; costUsd: number | null }> = {};
    for (const [model, entry] of Object.entries(modelUsage)) {
      const cacheCreation = entry.cacheCreationInputTokens ?? 0;
      const oneHour = Math.min(cacheCreation, ledger[model]?.usage.cacheCreation1hTokens ?? 0);
      converted[model] = {
        usage: {
          inputTokens: entry.inputTokens,
          outputTokens: entry.outputTokens,
          cacheCreation5mTokens: cacheCreation - oneHour,
          cacheCreation1hTokens: oneHour,
          cacheReadTokens: entry.cacheReadInputTokens ?? 0,
          webSearchRequests: entry.webSearchRequests ?? 0,
        },
        costUsd: entry.costUSD ?? null,
      };
    }
    return converted;
  }

  /** The model `result.usage` belongs to: the session's, else the one with most responses. */
  private mainModel(): string {
    const model = this.model();
    if (model !== null) return model;
    const ranked = Object.entries(this.ledger.byModel()).sort(
      ([, a], [, b]) => b.responses - a.responses,
    );
    return ranked[0]?.[0] ?? UNKNOWN_MODEL;
  }
}

function outcome(
  kind: RunOutcomeKind,
  subtype: string | null,
  isError: boolean,
  resetsAt: Date | null,
): RunOutcome {
  return { kind, resumable: RESUMABLE.has(kind), resetsAt, subtype, isError };
}

/** Compares dotted numeric versions (`2.1.112` < `2.1.277`); a non-numeric part counts as 0. */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string) =>
    version
      .split(/[.+-]/)
      .slice(0, 3)
      .map((part) => Number.parseInt(part, 10) || 0);
  const [left, right] = [parts(a), parts(b)];
  for (let index = 0; index < 3; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}
