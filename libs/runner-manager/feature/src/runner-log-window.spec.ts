import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  bufferLogBytes,
  type LogWindowRequest,
  readLogFileWindow,
  readLogWindow,
} from './runner-log-window';

const request = (overrides: Partial<LogWindowRequest> = {}): LogWindowRequest => ({
  offset: 0,
  limitBytes: 64 * 1024,
  complete: false,
  ...overrides,
});

const read = (text: string | Buffer, overrides: Partial<LogWindowRequest> = {}) =>
  readLogWindow(bufferLogBytes(Buffer.from(text)), request(overrides));

/**
 * Follows the log window by window, as a follower does, and returns every piece. For valid
 * UTF-8 each piece is exactly its bytes.
 */
async function follow(log: Buffer, limitBytes: number, complete: boolean): Promise<string[]> {
  const valid = Buffer.from(log.toString('utf8')).equals(log);
  const pieces: string[] = [];
  let offset = 0;
  for (let reads = 0; reads < log.length + 5; reads++) {
    const window = await readLogWindow(
      bufferLogBytes(log),
      request({ offset, limitBytes, complete }),
    );
    expect(window.offset).toBe(offset);
    if (valid) {
      expect(Buffer.byteLength(window.content)).toBe(window.nextOffset - window.offset);
    }
    if (window.nextOffset === offset) break;
    pieces.push(window.content);
    offset = window.nextOffset;
  }
  return pieces;
}

describe('readLogWindow', () => {
  it('reads from the offset up to the limit, and reports the size', async () => {
    await expect(read('hello\nworld\n', { offset: 6, limitBytes: 3 })).resolves.toEqual({
      content: 'wor',
      offset: 6,
      nextOffset: 9,
      size: 12,
    });
    await expect(read('hello\n', { offset: 6 })).resolves.toEqual({
      content: '',
      offset: 6,
      nextOffset: 6,
      size: 6,
    });
  });

  it('clamps an offset past the end (a log that was removed or replaced) to the size', async () => {
    await expect(read('abc', { offset: 100 })).resolves.toEqual({
      content: '',
      offset: 3,
      nextOffset: 3,
      size: 3,
    });
  });

  it('never splits a character: a window ends before one the limit would cut', async () => {
    // "é" is 2 bytes, "€" 3, "😀" 4.
    const window = await read('aé€😀z', { limitBytes: 5 });
    expect(window).toEqual({ content: 'aé', offset: 0, nextOffset: 3, size: 11 });
    const next = await read('aé€😀z', { offset: window.nextOffset, limitBytes: 5 });
    expect(next).toEqual({ content: '€', offset: 3, nextOffset: 6, size: 11 });
  });

  it('moves an offset inside a character back to its start', async () => {
    await expect(read('a😀b', { offset: 3 })).resolves.toEqual({
      content: '😀b',
      offset: 1,
      nextOffset: 6,
      size: 6,
    });
  });

  it('returns a whole character even when the limit is smaller, so a follower always advances', async () => {
    await expect(read('😀€', { limitBytes: 1 })).resolves.toMatchObject({
      content: '😀',
      nextOffset: 4,
    });
    const log = Buffer.from('a😀bé€\n'.repeat(20));
    for (const limit of [1, 2, 3, 5, 7]) {
      expect((await follow(log, limit, false)).join('')).toBe(log.toString('utf8'));
    }
  });

  it('holds back a character still being written at the end of a growing log', async () => {
    const partial = Buffer.concat([Buffer.from('ok '), Buffer.from('😀').subarray(0, 2)]);
    await expect(readLogWindow(bufferLogBytes(partial), request())).resolves.toEqual({
      content: 'ok ',
      offset: 0,
      nextOffset: 3,
      size: 5,
    });
    await expect(readLogWindow(bufferLogBytes(partial), request({ offset: 3 }))).resolves.toEqual({
      content: '',
      offset: 3,
      nextOffset: 3,
      size: 5,
    });
  });

  it('returns the cut character as U+FFFD once the log is complete, reaching the end', async () => {
    const partial = Buffer.concat([Buffer.from('ok '), Buffer.from('😀').subarray(0, 2)]);
    await expect(
      readLogWindow(bufferLogBytes(partial), request({ complete: true })),
    ).resolves.toEqual({ content: 'ok \uFFFD', offset: 0, nextOffset: 5, size: 5 });
  });

  it('passes bytes that are not UTF-8 through as U+FFFD without losing its place', async () => {
    const binary = Buffer.from([0x61, 0xff, 0x80, 0x62, 0xc3]);
    const pieces = await follow(binary, 2, true);
    expect(pieces.join('')).toBe('a\uFFFD\uFFFDb\uFFFD');
  });

  describe('tail', () => {
    const log = 'one\ntwo\nthree\n';

    it('starts at the last N lines; a final newline ends the last line', async () => {
      await expect(read(log, { tail: 2 })).resolves.toEqual({
        content: 'two\nthree\n',
        offset: 4,
        nextOffset: 14,
        size: 14,
      });
      await expect(read('one\ntwo\nthree', { tail: 1 })).resolves.toMatchObject({
        content: 'three',
        offset: 8,
      });
    });

    it('gives the whole log when it has fewer lines, and nothing for 0', async () => {
      await expect(read(log, { tail: 10 })).resolves.toMatchObject({ content: log, offset: 0 });
      await expect(read(log, { tail: 0 })).resolves.toEqual({
        content: '',
        offset: 14,
        nextOffset: 14,
        size: 14,
      });
      await expect(read('', { tail: 3 })).resolves.toEqual({
        content: '',
        offset: 0,
        nextOffset: 0,
        size: 0,
      });
    });

    it('finds lines across read chunks and still honours the limit', async () => {
      const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i}`);
      const big = `${lines.join('\n')}\n`;
      // The last 20 000 lines span several 64 KiB chunks read backwards.
      const window = await read(big, { tail: 20_000, limitBytes: 12 });
      expect(window.offset).toBe(Buffer.byteLength(`${lines.slice(0, 10_000).join('\n')}\n`));
      expect(window.content).toBe('line 10000\nl');
    });
  });
});

describe('readLogFileWindow', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runner-log-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a window of a file', async () => {
    const path = join(dir, 'r.log');
    await writeFile(path, 'hello €\nbye\n');
    await expect(readLogFileWindow(path, request({ offset: 6, limitBytes: 4 }))).resolves.toEqual({
      content: '€\n',
      offset: 6,
      nextOffset: 10,
      size: 14,
    });
    await expect(readLogFileWindow(path, request({ tail: 1 }))).resolves.toMatchObject({
      content: 'bye\n',
      offset: 10,
    });
  });

  it('answers null when the file does not exist', async () => {
    await expect(readLogFileWindow(join(dir, 'missing.log'), request())).resolves.toBeNull();
  });
});
