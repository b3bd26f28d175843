/** Receives the lines of a child's output. */
export interface LineSink {
  /** One complete line, without its line break, decoded as UTF-8. */
  line(text: string): void;
  /** A line longer than the splitter's limit was dropped (it still reached the log). */
  overflow?(bytes: number): void;
  /** The output ended. Idempotent: the launcher may also call it when it stops waiting. */
  end(): void;
}

/** Lines above this are dropped rather than held in memory (a tool result can be huge). */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines. Works on bytes, so a multi-byte character split across two
 * chunks is decoded whole; `\r\n` loses its `\r`.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overflowing = false;
  private ended = false;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    if (this.ended) return;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) break;
      this.append(chunk.subarray(start, newline));
      this.emit();
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  /** Emits a last line that had no line break, then ends the sink. Idempotent. */
  end(): void {
    if (this.ended) return;
    if (this.pendingBytes > 0 || this.overflowing) this.emit();
    this.ended = true;
    this.sink.end();
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.pendingBytes += part.length;
    if (this.overflowing) return;
    if (this.pendingBytes > this.maxLineBytes) {
      this.overflowing = true;
      this.pending = [];
      return;
    }
    this.pending.push(part);
  }

  private emit(): void {
    if (this.overflowing) {
      this.sink.overflow?.(this.pendingBytes);
    } else {
      let text = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      this.sink.line(text);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.overflowing = false;
  }
}
