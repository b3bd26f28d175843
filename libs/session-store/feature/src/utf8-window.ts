const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

function sequenceLength(lead: number): number {
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

/** Bytes to read around a window so that {@link cutUtf8Window} can align it: 3 before, 3 after. */
export function utf8ReadRange(
  offset: number,
  limit: number,
  size: number,
): { start: number; length: number } {
  const at = Math.min(Math.max(0, offset), size);
  const start = Math.max(0, at - 3);
  return { start, length: Math.min(size, at + limit + 3) - start };
}

/**
 * A window of at most `limit` bytes starting at `offset` (both in the blob), aligned to whole
 * UTF-8 characters: an offset inside a character moves back to its start, a character cut by the
 * end of the window is left for the next read (unless the blob ends there, or the window holds
 * nothing else: then it is included whole, so a reader always progresses). `bytes` is what was
 * read from `bytesStart` (see {@link utf8ReadRange}).
 */
export function cutUtf8Window(
  bytes: Buffer,
  bytesStart: number,
  offset: number,
  limit: number,
  size: number,
): { offset: number; content: Buffer } {
  let start = Math.min(Math.max(0, offset), size) - bytesStart;
  for (let moved = 0; moved < 3 && start > 0 && isContinuation(bytes[start] ?? 0); moved += 1) {
    start -= 1;
  }
  let end = Math.min(bytes.length, start + limit);
  if (bytesStart + end < size) {
    for (let i = end - 1; i >= Math.max(start, end - 3); i -= 1) {
      const byte = bytes[i] ?? 0;
      if (isContinuation(byte)) continue;
      if (byte >= 0xc0 && i + sequenceLength(byte) > end) end = i;
      break;
    }
    if (end === start && start < bytes.length) {
      end = Math.min(bytes.length, start + sequenceLength(bytes[start] ?? 0));
    }
  }
  return { offset: bytesStart + start, content: bytes.subarray(start, end) };
}
