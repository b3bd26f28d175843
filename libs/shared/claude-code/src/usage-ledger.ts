import { type ApiResponseCopy, SYNTHETIC_MODEL, UNKNOWN_MODEL } from './api-response';
import { applyDeltaUsage } from './api-usage.schema';
import { type TieredUsage } from './cost';
import { type LineSource, type MalformedLine } from './json-line';
import { LONG_CONTEXT_THRESHOLD_TOKENS } from './pricing';
import { readStreamJsonLine, type StreamJsonLineRead } from './stream-json';
import {
  addUsage,
  coversUsage,
  isZeroUsage,
  maxUsage,
  promptTokens,
  subtractUsage,
  type TokenUsage,
  ZERO_TOKEN_USAGE,
} from './token-usage';
import { readTranscriptLine, type TranscriptLineRead } from './transcript';

/** What recording one copy did. */
export type RecordKind =
  /** A response not seen before: counted. */
  | 'new'
  /** A bigger copy of a known response (its last line, with the final output tokens). */
  | 'grown'
  /** Neither copy covers the other (never seen in real data): the larger value of each kind. */
  | 'conflict'
  /** A copy no bigger than the one kept: nothing changes (the main-chain copy may be preferred). */
  | 'duplicate'
  /** Zero usage of Claude Code's own `<synthetic>` messages: not an API response. */
  | 'ignored';

export interface RecordResult {
  readonly kind: RecordKind;
  /** By how much the totals grew: never negative. */
  readonly delta: TokenUsage;
}

/** One model's totals. */
export interface ModelTotals extends TieredUsage {
  /** Distinct API responses. */
  readonly responses: number;
}

/** Counts that tell how the ledger got its totals. */
export interface LedgerStats {
  /** Every copy recorded. */
  readonly copies: number;
  /** Distinct responses counted. */
  readonly responses: number;
  /** Responses whose kept copy comes from a subagent (sidechain). */
  readonly sidechainResponses: number;
  /** Copies that changed nothing. */
  readonly duplicates: number;
  /** Copies that grew a known response. */
  readonly grown: number;
  /** Copies that disagreed with the kept one (see `RecordKind`). */
  readonly conflicts: number;
  /** Copies with neither a message id nor a line uuid: counted each time, they cannot be matched. */
  readonly unidentified: number;
}

interface Entry {
  copy: ApiResponseCopy;
  usage: TokenUsage;
}

interface MutableModelTotals {
  usage: TokenUsage;
  longContextUsage: TokenUsage;
  responses: number;
}

/** How many malformed lines are kept with their reason (all are counted). */
const MALFORMED_KEPT = 100;

/**
 * The de-duplicated token usage of Claude Code sessions.
 *
 * One API response reaches the ledger many times: as several transcript lines (one per content
 * block; only the last carries the final `output_tokens`), as stream-json events, again in a
 * resumed or forked session's file, and in a subagent file that shares the parent's session id.
 * The ledger counts each response once, identified by `message.id` and `requestId` (a copy
 * without a `requestId`, as in stream-json, matches any copy of the same `message.id`), and keeps
 * the copy with the largest usage, preferring the main-chain copy over a sidechain one on a tie
 * (ccusage's rule). Totals only grow: a bigger copy adds its difference, a smaller or equal copy
 * adds nothing, so feeding the same lines again, in any order, changes nothing.
 */
export class UsageLedger {
  private readonly byMessageId = new Map<string, Entry[]>();
  private readonly byLineId = new Map<string, Entry>();
  private readonly models = new Map<string, MutableModelTotals>();
  private total: TokenUsage = ZERO_TOKEN_USAGE;
  private sidechainTotal: TokenUsage = ZERO_TOKEN_USAGE;
  private counts = {
    copies: 0,
    responses: 0,
    sidechainResponses: 0,
    duplicates: 0,
    grown: 0,
    conflicts: 0,
    unidentified: 0,
  };
  private readonly malformedKept: MalformedLine[] = [];
  private malformedTotal = 0;
  private readonly lineCounters = new Map<string, number>();
  private readonly ignoredByType = new Map<string, number>();
  private readonly sessions = new Set<string>();
  /** The response last started on each partial-message stream (main loop '', or a subagent). */
  private readonly openMessages = new Map<string, ApiResponseCopy>();

  /** Records one copy of one API response. */
  record(copy: ApiResponseCopy): RecordResult {
    this.counts.copies++;
    if (copy.model === SYNTHETIC_MODEL && isZeroUsage(copy.usage)) {
      return { kind: 'ignored', delta: ZERO_TOKEN_USAGE };
    }
    if (copy.sessionId !== null) this.sessions.add(copy.sessionId);
    const existing = this.find(copy);
    if (existing === undefined) {
      this.insert(copy);
      this.counts.responses++;
      if (copy.sidechain) this.counts.sidechainResponses++;
      this.add(copy, copy.usage, +1);
      return { kind: 'new', delta: copy.usage };
    }
    if (existing.copy.requestId === null && copy.requestId !== null) {
      // Learn the request id, so that a later copy with another request id is told apart.
      existing.copy = { ...existing.copy, requestId: copy.requestId };
    }

    const kept = existing.usage;
    let next: TokenUsage;
    let kind: RecordKind;
    if (coversUsage(kept, copy.usage)) {
      const tie = coversUsage(copy.usage, kept);
      if (tie && existing.copy.sidechain && !copy.sidechain) {
        this.replace(existing, copy, kept);
      }
      this.counts.duplicates++;
      return { kind: 'duplicate', delta: ZERO_TOKEN_USAGE };
    } else if (coversUsage(copy.usage, kept)) {
      next = copy.usage;
      kind = 'grown';
      this.counts.grown++;
    } else {
      next = maxUsage(kept, copy.usage);
      kind = 'conflict';
      this.counts.conflicts++;
    }
    this.replace(existing, copy, next);
    return { kind, delta: subtractUsage(next, kept) };
  }

  /**
   * Reads one transcript line and records its usage. `origin` names the file in the report of
   * malformed lines; `lineNumber` defaults to the count of lines given for that origin.
   */
  addTranscriptLine(
    text: string,
    origin: string | null = null,
    lineNumber?: number,
  ): TranscriptLineRead {
    const number = this.nextLineNumber('transcript', origin, lineNumber);
    const read = readTranscriptLine(text);
    switch (read.kind) {
      case 'response':
        this.record(read.response);
        break;
      case 'malformed':
        this.noteMalformed({
          source: 'transcript',
          origin,
          lineNumber: number,
          reason: read.reason,
        });
        break;
      case 'ignored':
        this.ignoredByType.set(read.type, (this.ignoredByType.get(read.type) ?? 0) + 1);
        break;
      case 'blank':
        break;
    }
    return read;
  }

  /** Reads one stream-json line and records the usage of an `assistant` event. */
  addStreamJsonLine(
    text: string,
    origin: string | null = null,
    lineNumber?: number,
  ): StreamJsonLineRead {
    const number = this.nextLineNumber('stream-json', origin, lineNumber);
    const read = readStreamJsonLine(text);
    switch (read.kind) {
      case 'assistant':
        this.record(read.response);
        break;
      case 'malformed':
        this.noteMalformed({
          source: 'stream-json',
          origin,
          lineNumber: number,
          reason: read.reason,
        });
        break;
      case 'ignored':
        this.ignoredByType.set(read.type, (this.ignoredByType.get(read.type) ?? 0) + 1);
        break;
      case 'init':
      case 'result':
        if (read.event.session_id) this.sessions.add(read.event.session_id);
        break;
      case 'message-start':
        this.openMessages.set(read.stream, read.response);
        this.record(read.response);
        break;
      case 'message-delta': {
        const started = this.openMessages.get(read.stream);
        if (started === undefined) {
          this.noteMalformed({
            source: 'stream-json',
            origin,
            lineNumber: number,
            reason: 'stream_event/message_delta without a message_start before it',
          });
          break;
        }
        const grown = { ...started, usage: applyDeltaUsage(started.usage, read.usage) };
        this.openMessages.set(read.stream, grown);
        this.record(grown);
        break;
      }
      case 'rate-limit':
      case 'blank':
        break;
    }
    return read;
  }

  /** Usage of every response, summed. */
  totals(): TokenUsage {
    return this.total;
  }

  /** The part of {@link totals} whose kept copy came from a subagent. */
  sidechainTotals(): TokenUsage {
    return this.sidechainTotal;
  }

  /** Totals per model id (`<unknown>` when a response named none). */
  byModel(): Record<string, ModelTotals> {
    const result: Record<string, ModelTotals> = {};
    for (const [model, totals] of this.models) {
      if (totals.responses === 0) continue;
      result[model] = { ...totals };
    }
    return result;
  }

  stats(): LedgerStats {
    return { ...this.counts };
  }

  /** Session ids seen on any line. */
  sessionIds(): string[] {
    return [...this.sessions];
  }

  /** Malformed lines: the total, and the first ones with their reason. */
  malformed(): { readonly count: number; readonly first: readonly MalformedLine[] } {
    return { count: this.malformedTotal, first: [...this.malformedKept] };
  }

  /** Lines of types the accounting does not use, by type. */
  ignoredLines(): Record<string, number> {
    return Object.fromEntries(this.ignoredByType);
  }

  /** Records a malformed line found by a reader outside the ledger. */
  noteMalformed(line: MalformedLine): void {
    this.malformedTotal++;
    if (this.malformedKept.length < MALFORMED_KEPT) this.malformedKept.push(line);
  }

  private nextLineNumber(
    source: LineSource,
    origin: string | null,
    given: number | undefined,
  ): number {
    const key = `${source}\u0000${origin ?? ''}`;
    const number = given ?? (this.lineCounters.get(key) ?? 0) + 1;
    this.lineCounters.set(key, number);
    return number;
  }

  private find(copy: ApiResponseCopy): Entry | undefined {
    if (copy.messageId !== null) {
      return this.byMessageId
        .get(copy.messageId)
        ?.find(
          (entry) =>
            entry.copy.requestId === null ||
            copy.requestId === null ||
            entry.copy.requestId === copy.requestId,
        );
    }
    if (copy.lineId !== null) return this.byLineId.get(copy.lineId);
    this.counts.unidentified++;
    return undefined;
  }

  private insert(copy: ApiResponseCopy): void {
    const entry: Entry = { copy, usage: copy.usage };
    if (copy.messageId !== null) {
      const entries = this.byMessageId.get(copy.messageId);
      if (entries === undefined) this.byMessageId.set(copy.messageId, [entry]);
      else entries.push(entry);
    } else if (copy.lineId !== null) {
      this.byLineId.set(copy.lineId, entry);
    }
  }

  private replace(entry: Entry, copy: ApiResponseCopy, usage: TokenUsage): void {
    const requestId = copy.requestId ?? entry.copy.requestId;
    this.add(entry.copy, entry.usage, -1);
    if (entry.copy.sidechain) this.counts.sidechainResponses--;
    entry.copy = { ...copy, requestId };
    entry.usage = usage;
    this.add(entry.copy, usage, +1);
    if (copy.sidechain) this.counts.sidechainResponses++;
  }

  /** Adds (`sign` +1) or removes (-1) one response's usage from the totals it belongs to. */
  private add(copy: ApiResponseCopy, usage: TokenUsage, sign: 1 | -1): void {
    const apply = (base: TokenUsage) =>
      sign === 1 ? addUsage(base, usage) : subtractUsage(base, usage);
    const model = copy.model ?? UNKNOWN_MODEL;
    let totals = this.models.get(model);
    if (totals === undefined) {
      totals = { usage: ZERO_TOKEN_USAGE, longContextUsage: ZERO_TOKEN_USAGE, responses: 0 };
      this.models.set(model, totals);
    }
    totals.usage = apply(totals.usage);
    if (promptTokens(usage) > LONG_CONTEXT_THRESHOLD_TOKENS) {
      totals.longContextUsage = apply(totals.longContextUsage);
    }
    totals.responses += sign;
    this.total = apply(this.total);
    if (copy.sidechain) this.sidechainTotal = apply(this.sidechainTotal);
  }
}
