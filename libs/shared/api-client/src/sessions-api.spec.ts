import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

import { ApiError } from './api-client.errors';
import { StratavoreApiClient } from './stratavore-api-client';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

const metadata = {
  kind: 'main',
  agentId: null,
  size: 12,
  lineCount: 2,
  sha256: 'a'.repeat(64),
  uploadedAt: '2026-03-01T10:00:00.000Z',
  uploadedBy: '11111111-1111-4111-8111-111111111111',
};

describe('StratavoreApiClient sessions and transcripts', () => {
  let server: Server;
  let client: StratavoreApiClient;
  let handler: Handler;
  const seen: Array<{
    method?: string;
    url?: string;
    headers: IncomingMessage['headers'];
    body: string;
  }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: body.toString(),
        });
        handler(req, body, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new StratavoreApiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: 'runner-token',
    });
  });

  afterEach(() => {
    seen.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const answer =
    (status: number, body: unknown): Handler =>
    (_req, _body, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };

  it('uploads a transcript as x-ndjson with the runner token, streamed from an iterable', async () => {
    handler = answer(200, metadata);
    async function* lines() {
      yield await Promise.resolve(Buffer.from('{"a":1}\n'));
      yield Buffer.from('{"b":2}\n');
    }

    expect(await client.uploadTranscript('sess/1', 'subagent-a1', lines())).toEqual(metadata);
    expect(seen[0]).toMatchObject({
      method: 'PUT',
      url: '/api/v1/sessions/sess%2F1/transcripts/subagent-a1',
      body: '{"a":1}\n{"b":2}\n',
      headers: { authorization: 'Bearer runner-token', 'content-type': 'application/x-ndjson' },
    });
  });

  it("reports session-store's refusal as an ApiError with its code", async () => {
    handler = answer(413, {
      statusCode: 413,
      code: 'TRANSCRIPT_TOO_LARGE',
      message: 'the transcript is larger than 10 bytes',
    });
    const error = await client
      .uploadTranscript('s', 'main', 'x'.repeat(20))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 413, code: 'TRANSCRIPT_TOO_LARGE' });
  });

  it('asks for sessions, transcript windows, usage and statistics with their queries', async () => {
    handler = answer(200, { sessions: [] });
    await client.listSessions({ project: 'web', since: '2026-01-01T00:00:00.000Z', limit: 5 });
    handler = answer(200, {
      content: '',
      offset: 0,
      nextOffset: 0,
      size: 0,
      eof: true,
      transcript: { ...metadata, size: 0 },
    });
    await client.sessionTranscript('s1', { kind: 'main', offset: 10, limit: 100 });
    handler = answer(200, {
      by: 'day',
      from: '2026-01-01',
      to: '2026-01-02',
      rows: [],
      total: {
        tokens: {
          input: 0,
          output: 0,
          cacheCreation: 0,
          cacheCreation5m: 0,
          cacheCreation1h: 0,
          cacheRead: 0,
          webSearchRequests: 0,
        },
        costUsd: 0,
      },
    });
    await client.getUsage({ by: 'day', from: '2026-01-01' });

    expect(seen.map((s) => s.url)).toEqual([
      '/api/v1/sessions?project=web&since=2026-01-01T00%3A00%3A00.000Z&limit=5',
      '/api/v1/sessions/s1/transcript?kind=main&offset=10&limit=100',
      '/api/v1/usage?by=day&from=2026-01-01',
    ]);
  });
});
