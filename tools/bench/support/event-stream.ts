/**
 * A client of the gateway's server-sent event stream (`GET /api/v1/events?types=...`): hands
 * each event's type and envelope to a callback until closed.
 */
export interface StreamedEvent {
  readonly type: string;
  readonly envelope: {
    readonly id: string;
    readonly time: string;
    readonly subject?: string;
    readonly data: Record<string, unknown>;
  };
}

export async function openEventStream(options: {
  readonly url: string;
  readonly apiKey: string;
  readonly types: readonly string[];
  readonly onEvent: (event: StreamedEvent) => void;
}): Promise<{ close(): void }> {
  const controller = new AbortController();
  const response = await fetch(
    `${options.url}/api/v1/events?types=${encodeURIComponent(options.types.join(','))}`,
    {
      headers: { authorization: `Bearer ${options.apiKey}`, accept: 'text/event-stream' },
      signal: controller.signal,
    },
  );
  if (!response.ok || !response.body) {
    throw new Error(`the event stream answered ${response.status}: ${await response.text()}`);
  }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (data)
          options.onEvent({ type, envelope: JSON.parse(data) as StreamedEvent['envelope'] });
      }
    }
  };
  pump().catch(() => undefined);
  return { close: () => controller.abort() };
}
