/** One server-sent event as read from the stream. */
export interface ServerSentEvent {
  /** The `event:` field; `message` when the server sent none. */
  readonly type: string;
  /** The `data:` lines joined with newlines. */
  readonly data: string;
  /** The `id:` field of this event or, when absent, the last one seen. */
  readonly id: string | undefined;
  /** The `retry:` advice in milliseconds, when the server gave one. */
  readonly retryMs: number | undefined;
}

/**
 * Splits a `text/event-stream` body into events, following the WHATWG parsing rules: fields
 * `event`, `data`, `id`, `retry`; comment lines (`:`) ignored; an event ends at a blank line.
 */
export async function* readServerSentEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let type = '';
  let data: string[] = [];
  let lastId: string | undefined;
  let retryMs: number | undefined;

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      const skip = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + skip);
      newline = buffer.search(/\r\n|\r|\n/);

      if (line === '') {
        if (data.length > 0) {
          yield { type: type || 'message', data: data.join('\n'), id: lastId, retryMs };
        }
        type = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const rawValue = colon < 0 ? '' : line.slice(colon + 1);
      const value = rawValue.startsWith(' ') ? rawValue.slice(1) : rawValue;
      switch (field) {
        case 'event':
          type = value;
          break;
        case 'data':
          data.push(value);
          break;
        case 'id':
          if (!value.includes('\0')) lastId = value;
          break;
        case 'retry':
          if (/^\d+$/.test(value)) retryMs = Number(value);
          break;
        default:
          break;
      }
    }
  }
}
