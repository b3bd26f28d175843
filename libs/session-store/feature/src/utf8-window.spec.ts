import { cutUtf8Window, utf8ReadRange } from './utf8-window';

/** Reads a window the way the use case does: the range, then the cut. */
function window(text: string, offset: number, limit: number) {
  const blob = Buffer.from(text, 'utf8');
  const range = utf8ReadRange(offset, limit, blob.length);
  const bytes = blob.subarray(range.start, range.start + range.length);
  const cut = cutUtf8Window(bytes, range.start, offset, limit, blob.length);
  return {
    offset: cut.offset,
    text: cut.content.toString('utf8'),
    next: cut.offset + cut.content.length,
  };
}

describe('UTF-8 windows', () => {
  it('reads whole characters and goes on from nextOffset to the end', () => {
    const text = 'a\u00e9\u20ac\ud83d\ude00z\n'; // 1 + 2 + 3 + 4 + 1 + 1 bytes
    let offset = 0;
    const parts: string[] = [];
    for (let reads = 0; offset < Buffer.byteLength(text); reads += 1) {
      const w = window(text, offset, 2);
      parts.push(w.text);
      expect(w.next).toBeGreaterThan(offset);
      offset = w.next;
      expect(reads).toBeLessThan(20);
    }
    expect(parts.join('')).toBe(text);
    expect(parts).toEqual(['a', '\u00e9', '\u20ac', '\ud83d\ude00', 'z\n']);
  });

  it('moves an offset inside a character back to its start', () => {
    expect(window('\u20acx', 2, 10)).toEqual({ offset: 0, text: '\u20acx', next: 4 });
  });

  it('clamps an offset past the end to an empty window at the end', () => {
    expect(window('abc', 10, 5)).toEqual({ offset: 3, text: '', next: 3 });
  });
});
