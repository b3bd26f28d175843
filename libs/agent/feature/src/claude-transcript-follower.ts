import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import {
  addUsage,
  type ModelTotals,
  subtractUsage,
  type TokenUsage,
  UsageLedger,
  ZERO_TOKEN_USAGE,
} from '@stratavore/claude-code';

import { LineSplitter } from './line-splitter';

/** Bytes read per `readSync`: a resumed session's file can be tens of megabytes. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads what was appended to one file since the last call, line by line, into `onLine`. A line
 * still being written waits for its line break; a file that shrank (replaced) is read again from
 * the start (the ledger ignores the copies).
 */
export class FileTail {
  private offset = 0;
  private readonly splitter: LineSplitter;
  private lineNumber = 0;

  constructor(
    readonly path: string,
    onLine: (text: string, lineNumber: number) => void,
  ) {
    this.splitter = new LineSplitter({
      line: (text) => onLine(text, ++this.lineNumber),
      end: () => undefined,
    });
  }

  /** Reads the new bytes; returns how many. A file that does not exist (yet) reads nothing. */
  read(): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return 0;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.lineNumber = 0;
      }
      let total = 0;
      const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, Math.max(0, size - this.offset)));
      while (this.offset < size) {
        const read = readSync(
          fd,
          buffer,
          0,
          Math.min(buffer.length, size - this.offset),
          this.offset,
        );
        if (read <= 0) break;
        this.splitter.push(Buffer.from(buffer.subarray(0, read)));
        this.offset += read;
        total += read;
      }
      return total;
    } finally {
      closeSync(fd);
    }
  }
}

/** One model's usage in a session, as a transcript counted it. */
export interface TranscriptModelUsage {
  readonly usage: TokenUsage;
  readonly longContextUsage: TokenUsage;
  readonly responses: number;
}

/**
 * Follows one Claude Code session's transcripts on disk: `<session>.jsonl` and its subagents'
 * `<session>/subagents/agent-*.jsonl` (found as they appear), all into one de-duplicating
 * {@link UsageLedger}, so each API response counts once with its largest copy, whichever file
 * and however many lines carry it.
 *
 * What the files held when the follower was made is the **baseline**: a resumed session's
 * earlier turns were spent by earlier runners, so this runner's part is the ledger minus the
 * baseline. A fork's file repeats its parent's responses: the parent's file, given as
 * `baselineFiles`, is read into the baseline too, so the copies add nothing.
 */
export class SessionTranscripts {
  readonly ledger = new UsageLedger();
  private readonly main: FileTail;
  private readonly subagents = new Map<string, FileTail>();
  private baselineModels: Record<string, ModelTotals> = {};
  private baselineResponses = { main: 0 };

  constructor(
    readonly sessionId: string,
    readonly transcriptPath: string,
    options: {
      /** Files whose responses are not this runner's (a fork's parent). */
      readonly baselineFiles?: readonly string[];
      /** The files are this runner's from their first line (a session it started). */
      readonly countExisting?: boolean;
    } = {},
  ) {
    this.main = this.tail(transcriptPath);
    for (const file of options.baselineFiles ?? []) {
      if (file !== transcriptPath) this.tail(file).read();
    }
    if (options.countExisting !== true) this.refresh();
    this.baselineModels = this.ledger.byModel();
    this.baselineResponses = { main: this.mainResponses() };
  }

  /** Reads what was appended to the session's files since the last call. */
  refresh(): void {
    this.main.read();
    const dir = join(
      dirname(this.transcriptPath),
      basename(this.transcriptPath, '.jsonl'),
      'subagents',
    );
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // No subagent yet.
    }
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const path = join(dir, name);
      let tail = this.subagents.get(path);
      if (tail === undefined) {
        tail = this.tail(path);
        this.subagents.set(path, tail);
      }
      tail.read();
    }
  }

  /** True once the transcript file exists. */
  exists(): boolean {
    return existsSync(this.transcriptPath);
  }

  /** This runner's part, per model: the ledger's totals minus the baseline. */
  byModel(): Record<string, TranscriptModelUsage> {
    const result: Record<string, TranscriptModelUsage> = {};
    for (const [model, totals] of Object.entries(this.ledger.byModel())) {
      const before = this.baselineModels[model];
      const part = {
        usage: subtractUsage(totals.usage, before?.usage ?? ZERO_TOKEN_USAGE),
        longContextUsage: subtractUsage(
          totals.longContextUsage,
          before?.longContextUsage ?? ZERO_TOKEN_USAGE,
        ),
        responses: totals.responses - (before?.responses ?? 0),
      };
      if (part.responses > 0 || Object.values(part.usage).some((value) => value > 0)) {
        result[model] = part;
      }
    }
    return result;
  }

  /** This runner's part, summed over models. */
  totals(): TokenUsage {
    let sum = ZERO_TOKEN_USAGE;
    for (const { usage } of Object.values(this.byModel())) sum = addUsage(sum, usage);
    return sum;
  }

  /** Distinct main-chain responses of this runner's part (Claude Code's turns). */
  turns(): number {
    return this.mainResponses() - this.baselineResponses.main;
  }

  private mainResponses(): number {
    const stats = this.ledger.stats();
    return stats.responses - stats.sidechainResponses;
  }

  private tail(path: string): FileTail {
    return new FileTail(path, (text, lineNumber) =>
      this.ledger.addTranscriptLine(text, path, lineNumber),
    );
  }
}
