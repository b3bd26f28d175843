import { request } from 'node:http';

import { ClaudeStandIn, defaultStandInUsage, type StandInTurn } from './claude-stand-in';

const MODEL = 'claude-sonnet-4-5';
const TOOL_TURN: StandInTurn = {
  content: [
    { type: 'text', text: 'I will write the file.' },
    { type: 'tool_use', name: 'Bash', input: { command: 'echo hello > out.txt' } },
  ],
};
const TEXT_TURN: StandInTurn = { content: [{ type: 'text', text: 'Done.' }] };

interface SseEvent {
  readonly event: string;
  readonly data: Record<string, unknown> & { type: string };
}

function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const lines = chunk.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? '';
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '{}';
      return { event, data: JSON.parse(data) as SseEvent['data'] };
    });
}

function messagesBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: MODEL,
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'hi' }],
    ...overrides,
  });
}

describe('ClaudeStandIn', () => {
  let standIn: ClaudeStandIn;

  beforeEach(async () => {
    standIn = await ClaudeStandIn.start({ model: MODEL, turns: [TOOL_TURN, TEXT_TURN] });
  });

  afterEach(async () => {
    await standIn.close();
  });

  const post = (path: string, body: string) =>
    fetch(`${standIn.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-claude-code-session-id': 'session-1' },
      body,
    });

  it('streams a tool call as the real API does and records what it served', async () => {
    const response = await post('/v1/messages?beta=true', messagesBody({ stream: true }));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('request-id')).toBe('req_stand_in_0001');
    const events = parseSse(await response.text());
    expect(events.every(({ event, data }) => event === data.type)).toBe(true);
    expect(events.map(({ event }) => event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const usage = defaultStandInUsage(1);
    expect(events[0]?.data).toMatchObject({
      message: {
        id: 'msg_stand_in_0001',
        role: 'assistant',
        model: MODEL,
        content: [],
        stop_reason: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    const deltas = events
      .filter(({ event }) => event === 'content_block_delta')
      .map(({ data }) => data.delta as Record<string, string>);
    expect(
      deltas
        .filter((delta) => delta.type === 'text_delta')
        .map((delta) => delta.text)
        .join(''),
    ).toBe('I will write the file.');
    const json = deltas
      .filter((delta) => delta.type === 'input_json_delta')
      .map((delta) => delta.partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ command: 'echo hello > out.txt' });
    expect(events[6]?.data).toMatchObject({
      content_block: { type: 'tool_use', id: 'toolu_stand_in_0001_1', name: 'Bash', input: {} },
    });
    expect(events[10]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: usage.output_tokens,
      },
    });
    expect(standIn.served).toEqual([
      {
        serial: 1,
        kind: 'script',
        turn: 0,
        messageId: 'msg_stand_in_0001',
        requestId: 'req_stand_in_0001',
        model: MODEL,
        stream: true,
        stopReason: 'tool_use',
        usage,
        toolUses: [
          { id: 'toolu_stand_in_0001_1', name: 'Bash', input: { command: 'echo hello > out.txt' } },
        ],
        requestMessages: 1,
        toolResults: [],
        sessionId: 'session-1',
      },
    ]);
    expect(standIn.remainingTurns()).toBe(1);
  });

  it('records the tool result the next request carries and answers without streaming', async () => {
    await (await post('/v1/messages', messagesBody({ stream: true }))).text();
    const response = await post(
      '/v1/messages',
      messagesBody({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'text', text: 'calling' }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_stand_in_0001_1',
                content: [{ type: 'text', text: 'ok' }],
              },
            ],
          },
        ],
      }),
    );

    expect(await response.json()).toEqual({
      id: 'msg_stand_in_0002',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Done.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { ...defaultStandInUsage(2), service_tier: 'standard' },
    });
    expect(standIn.served[1]).toMatchObject({
      turn: 1,
      stream: false,
      requestMessages: 3,
      toolResults: [{ toolUseId: 'toolu_stand_in_0001_1', isError: false, content: 'ok' }],
    });
  });

  it('answers another model as a side call, with its own usage and without using a turn', async () => {
    const response = await post(
      '/v1/messages',
      messagesBody({
        model: 'claude-haiku-4-5-20251001',
        output_config: {
          format: {
            type: 'json_schema',
            schema: { type: 'object', properties: { title: { type: 'string' } } },
          },
        },
      }),
    );

    const body = (await response.json()) as { content: { text: string }[] };
    expect(JSON.parse(body.content[0]?.text ?? '')).toEqual({ title: 'Stand-in answer' });
    expect(standIn.served[0]).toMatchObject({
      kind: 'side',
      turn: null,
      model: 'claude-haiku-4-5-20251001',
    });
    expect(standIn.remainingTurns()).toBe(2);
    expect(Object.keys(standIn.servedUsageByModel())).toEqual(['claude-haiku-4-5-20251001']);
  });

  it('gives every response distinct usage numbers, and sums them by kind and model', async () => {
    await (await post('/v1/messages', messagesBody({ stream: true }))).text();
    await (await post('/v1/messages', messagesBody({ model: 'claude-haiku-4-5' }))).text();
    await (await post('/v1/messages', messagesBody({ stream: true }))).text();

    const numbers = standIn.served.flatMap(({ usage }) => [
      usage.input_tokens,
      usage.output_tokens,
      usage.cache_creation_input_tokens,
      usage.cache_read_input_tokens,
    ]);
    expect(new Set(numbers).size).toBe(12);
    expect(standIn.served.map(({ messageId }) => messageId)).toEqual([
      'msg_stand_in_0001',
      'msg_stand_in_0002',
      'msg_stand_in_0003',
    ]);
    const [first, , third] = [1, 2, 3].map(defaultStandInUsage);
    expect(standIn.servedUsage({ kind: 'script' }).input_tokens).toBe(
      (first?.input_tokens ?? 0) + (third?.input_tokens ?? 0),
    );
    expect(standIn.servedUsageByModel()['claude-haiku-4-5']).toEqual(defaultStandInUsage(2));
  });

  it('applies a turn usage override', async () => {
    standIn.addTurns({ content: [{ type: 'text', text: 'x' }], usage: { output_tokens: 7 } });
    for (let i = 0; i < 3; i++) await (await post('/v1/messages', messagesBody())).text();

    expect(standIn.served[2]?.usage).toEqual({ ...defaultStandInUsage(3), output_tokens: 7 });
  });

  it('answers the preflight and count_tokens, and refuses what it does not know visibly', async () => {
    expect((await fetch(standIn.url, { method: 'HEAD' })).status).toBe(200);
    const count = await post('/v1/messages/count_tokens', messagesBody());
    expect(await count.json()).toEqual({ input_tokens: expect.any(Number) as number });
    const unknown = await fetch(`${standIn.url}/v1/models`);
    expect(unknown.status).toBe(404);
    const invalid = await post('/v1/messages', messagesBody({ max_tokens: 'many' }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('max_tokens') as string,
      },
    });
    const notJson = await post('/v1/messages', '{');
    expect(notJson.status).toBe(400);

    expect(standIn.requests.map(({ outcome }) => outcome)).toEqual([
      'preflight',
      'count-tokens',
      'unknown',
      'invalid',
      'invalid',
    ]);
    expect(standIn.unexpectedRequests().map(({ path }) => path)).toEqual([
      '/v1/models',
      '/v1/messages',
      '/v1/messages',
    ]);
    expect(standIn.served).toEqual([]);
  });

  it('refuses a main-model request past the end of the script (400, so the CLI does not retry)', async () => {
    for (let i = 0; i < 2; i++) await (await post('/v1/messages', messagesBody())).text();
    const response = await post('/v1/messages', messagesBody());

    expect(response.status).toBe(400);
    expect(standIn.unexpectedRequests()).toEqual([
      expect.objectContaining({ outcome: 'unscripted', model: MODEL }),
    ]);
  });

  it('refuses proxy requests for other hosts and records their targets', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const connect = request({
        host: '127.0.0.1',
        port: standIn.port,
        method: 'CONNECT',
        path: 'api.example.test:443',
      });
      connect.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode);
      });
      connect.on('error', reject);
      connect.end();
    });
    const plain = await new Promise<number | undefined>((resolve, reject) => {
      const proxied = request({
        host: '127.0.0.1',
        port: standIn.port,
        path: 'http://example.test/x',
      });
      proxied.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      proxied.on('error', reject);
      proxied.end();
    });

    expect([status, plain]).toEqual([403, 403]);
    expect(standIn.proxyTargets()).toEqual(['api.example.test:443', 'http://example.test/x']);
    expect(standIn.unexpectedRequests()).toEqual([]);
  });
});
