import { createHash, type Hash } from 'node:crypto';

import { type BlobSource } from '@stratavore/session-store-data-access';

import { SessionStoreErrorCode, SessionStoreException } from './session-store.exception';

const NEWLINE = 0x0a;

/** What a metered upload measured. */
export interface TranscriptMeasure {
  readonly size: number;
  /** Lines of the JSONL: newlines, plus one for a last line without its newline. */
  readonly lineCount: number;
  readonly sha256: string;
}

/**
 * Measures a transcript while it streams through: size, line count and sha256, computed chunk by
 * chunk without holding the body. Past `maxBytes` the stream fails with `TranscriptTooLarge`
 * (the blob store then discards what it had written).
 */
export class TranscriptMeter {
  private size = 0;
  private newlines = 0;
  private lastByte = -1;
  private readonly hash: Hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {}

  async *pass(source: AsyncIterable<Uint8Array | string>): BlobSource {
    for await (const piece of source) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      if (chunk.length === 0) continue;
      this.size += chunk.length;
      if (this.size > this.maxBytes) throw tooLarge(this.maxBytes);
      this.hash.update(chunk);
      for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) {
        this.newlines += 1;
      }
      this.lastByte = chunk[chunk.length - 1] ?? this.lastByte;
      yield chunk;
    }
  }

  /** The measure once the stream was read to its end. */
  result(): TranscriptMeasure {
    const unterminated = this.size > 0 && this.lastByte !== NEWLINE ? 1 : 0;
    return {
      size: this.size,
      lineCount: this.newlines + unterminated,
      sha256: this.hash.copy().digest('hex'),
    };
  }
}

export function tooLarge(maxBytes: number): SessionStoreException {
  return new SessionStoreException(
    SessionStoreErrorCode.TranscriptTooLarge,
    `the transcript is larger than ${maxBytes} bytes`,
    { maxBytes },
  );
}
