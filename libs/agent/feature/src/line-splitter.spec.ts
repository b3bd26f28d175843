import { type LineSink, LineSplitter } from './line-splitter';

class RecordingSink implements LineSink {
  readonly lines: string[] = [];
  readonly overflows: number[] = [];
  ends = 0;

  line(text: string): void {
    this.lines.push(text);
  }

  overflow(bytes: number): void {
    this.overflows.push(bytes);
  }

  end(): void {
    this.ends++;
  }
}

describe('LineSplitter', () => {
  it('cuts lines across chunks, keeps multi-byte characters whole and drops \\r', () => {
    const sink = new RecordingSink();
    const splitter = new LineSplitter(sink);
    const bytes = Buffer.from('{"a":"é"}\r\n{"b":2}\n\n{"c":"∙ 3"}', 'utf8');
    // One byte at a time: every boundary, including inside "é" and "∙", is a chunk boundary.
    for (let index = 0; index < bytes.length; index++)
      splitter.push(bytes.subarray(index, index + 1));
    expect(sink.lines).toEqual(['{"a":"é"}', '{"b":2}', '']);
    splitter.end();
    splitter.end();
    expect(sink.lines).toEqual(['{"a":"é"}', '{"b":2}', '', '{"c":"∙ 3"}']);
    expect(sink.ends).toBe(1);
  });

  it('drops a line above the limit, says how long it was, and goes on', () => {
    const sink = new RecordingSink();
    const splitter = new LineSplitter(sink, 10);
    splitter.push(Buffer.from('short\n0123456'));
    splitter.push(Buffer.from('789abcdef\nnext\n'));
    expect(sink.lines).toEqual(['short', 'next']);
    expect(sink.overflows).toEqual([16]);
  });
});
