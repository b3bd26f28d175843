import { type FileHandle, open } from 'node:fs/promises';

/** What a launcher is asked for: a window of the log, from `offset` or from the last `tail` lines. */
export interface LogWindowRequest {
  readonly offset: number;
  readonly limitBytes: number;
  /** Start at the last `tail` lines instead of at `offset`. */
  readonly tail?: number;
  /**
   * The log will not grow any more (the runner ended): a character cut at the end of the log is
   * returned as it is (U+FFFD) instead of being held back for the writer to finish.
   */
  readonly complete: boolean;
}

/** A window of the log: whole UTF-8 characters from byte `offset` to byte `nextOffset`. */
export interface LogWindow {
  readonly content: string;
  readonly offset: number;
  readonly nextOffset: number;
  /** The log's size when it was read. */
  readonly size: number;
}

/** Random access to the log's bytes: a file, or a buffer in tests. */
export interface LogBytes {
  readonly size: number;
  /** Bytes `[position, position + length)`, fewer at the end. */
  read(position: number, length: number): Promise<Buffer>;
}

export const EMPTY_LOG_WINDOW: LogWindow = { content: '', offset: 0, nextOffset: 0, size: 0 };

/** A UTF-8 sequence is at most 4 bytes: a window looks this far around its edges. */
const MAX_SEQUENCE = 4;
const TAIL_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

/** Length of the sequence a lead byte starts; 1 for ASCII, 0 for a byte that starts none. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

/**
 * Reads one window of a log. The start is `offset` clamped to the size and moved back to the
 * start of the character it fell inside (or the start of the last `tail` lines); the end is at
 * most `limitBytes` further, moved back to a character boundary, so `content` never holds half
 * a character and `nextOffset` is exact. A window never comes back empty when a whole character
 * is there to read, even if `limitBytes` is smaller than that character. A character cut at the
 * end of a log that is still growing waits for the next read.
 */
export async function readLogWindow(log: LogBytes, request: LogWindowRequest): Promise<LogWindow> {
  const size = log.size;
  const requested =
    request.tail === undefined
      ? Math.min(request.offset, size)
      : await tailStart(log, request.tail);
  const before = Math.min(requested, MAX_SEQUENCE - 1);
  const bufferStart = requested - before;
  const buffer = await log.read(
    bufferStart,
    Math.min(size, requested + request.limitBytes + MAX_SEQUENCE) - bufferStart,
  );
  const bufferEnd = bufferStart + buffer.length;
  const at = (position: number): number => buffer[position - bufferStart] ?? 0;

  let start = requested;
  if (start < bufferEnd && isContinuation(at(start))) {
    start = leadOf(start, bufferStart, at) ?? start;
  }

  let end = Math.min(start + request.limitBytes, bufferEnd);
  if (end < bufferEnd && isContinuation(at(end))) {
    const lead = leadOf(end, Math.max(start, bufferStart), at);
    if (lead !== null) end = lead;
  }
  if (end === start && start < bufferEnd) {
    // limitBytes is smaller than the character here: take the whole character anyway.
    const length = sequenceLength(at(start));
    end = start + 1;
    while (end < bufferEnd && end < start + length && isContinuation(at(end))) end++;
  }
  if (end === size && !request.complete) {
    end = withoutCutCharacter(start, end, at);
  }

  return {
    content: buffer.subarray(start - bufferStart, end - bufferStart).toString('utf8'),
    offset: start,
    nextOffset: end,
    size,
  };
}

/**
 * The start of the character that position `inside` (a continuation byte) belongs to, looking
 * back no further than `floor`; null when no lead byte there claims it (not UTF-8).
 */
function leadOf(inside: number, floor: number, at: (position: number) => number): number | null {
  for (let back = 1; back < MAX_SEQUENCE && inside - back >= floor; back++) {
    const byte = at(inside - back);
    if (isContinuation(byte)) continue;
    return sequenceLength(byte) > back ? inside - back : null;
  }
  return null;
}

/** `end` moved back before a character that starts in `[start, end)` but ends after `end`. */
function withoutCutCharacter(start: number, end: number, at: (position: number) => number): number {
  for (let back = 1; back < MAX_SEQUENCE && end - back >= start; back++) {
    const byte = at(end - back);
    if (isContinuation(byte)) continue;
    return sequenceLength(byte) > back ? end - back : end;
  }
  return end;
}

/**
 * Byte offset of the start of the last `lines` lines. A newline ending the log ends its last
 * line rather than starting an empty one; a log with fewer lines starts at 0.
 */
async function tailStart(log: LogBytes, lines: number): Promise<number> {
  if (lines === 0) return log.size;
  let remaining = lines;
  let end = log.size;
  while (end > 0) {
    const chunkStart = Math.max(0, end - TAIL_CHUNK_BYTES);
    const chunk = await log.read(chunkStart, end - chunkStart);
    for (let index = chunk.length - 1; index >= 0; index--) {
      const position = chunkStart + index;
      if (chunk[index] !== NEWLINE || position === log.size - 1) continue;
      remaining -= 1;
      if (remaining === 0) return position + 1;
    }
    end = chunkStart;
  }
  return 0;
}

/** A buffer as {@link LogBytes}. */
export function bufferLogBytes(buffer: Buffer): LogBytes {
  return {
    size: buffer.length,
    read: (position, length) =>
      Promise.resolve(Buffer.from(buffer.subarray(position, position + length))),
  };
}

/**
 * Reads a window of the log file at `path`; null when there is no such file. The size is taken
 * once when the file is opened, so a window never reaches past what was there then.
 */
export async function readLogFileWindow(
  path: string,
  request: LogWindowRequest,
): Promise<LogWindow | null> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await file.stat();
    return await readLogWindow(
      {
        size,
        read: async (position, length) => {
          const buffer = Buffer.alloc(length);
          let filled = 0;
          while (filled < length) {
            const { bytesRead } = await file.read(
              buffer,
              filled,
              length - filled,
              position + filled,
            );
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          return buffer.subarray(0, filled);
        },
      },
      request,
    );
  } finally {
    await file.close();
  }
}
