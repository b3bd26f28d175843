import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

import { type HeartbeatRequest } from '@stratavore/contracts/heartbeat';

import { ApiError, NetworkError } from '../api-client.errors';
import { HttpHeartbeatClient } from './http-heartbeat-client';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const heartbeat: HeartbeatRequest = {
  runnerId: '11111111-1111-4111-8111-111111111111',
  seq: 1,
  sentAt: '2026-11-24T10:00:00.000Z',
  status: 'running',
  pid: 42,
  cpuPercent: 0,
  memoryBytes: 1024,
  agentVersion: '0.1.0',
  sessionId: null,
  counters: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
};

const CONTINUE = '{"desiredState":"continue","intervalMs":10000}';

function answer(status: number, body: string): Handler {
  return (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };
}

describe('HttpHeartbeatClient', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  let connections: Socket[];
  const clients: HttpHeartbeatClient[] = [];

  function client(options: { token?: string; timeoutMs?: number; baseUrl?: string } = {}) {
    const created = new HttpHeartbeatClient({
      baseUrl: options.baseUrl ?? baseUrl,
      token: options.token ?? 't',
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    server.on('connection', (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    connections = [];
  });

  afterEach(() => {
    for (const created of clients.splice(0)) created.close();
    server.closeAllConnections();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts JSON with the bearer token, returns the validated answer, and keeps the connection', async () => {
    const seen: Array<Record<string, unknown>> = [];
    handler = (req, body, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body: JSON.parse(body) as unknown,
      });
      answer(200, '{"desiredState":"stop","intervalMs":5000,"addedLater":true}')(req, body, res);
    };
    const heartbeats = client({ baseUrl: `${baseUrl}/`, token: 's3cret' });

    await expect(heartbeats.sendHeartbeat(heartbeat)).resolves.toEqual({
      desiredState: 'stop',
      intervalMs: 5000,
    });
    await heartbeats.sendHeartbeat({ ...heartbeat, seq: 2 });

    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/api/v1/heartbeat',
        auth: 'Bearer s3cret',
        type: 'application/json',
        body: heartbeat,
      },
      expect.objectContaining({ body: { ...heartbeat, seq: 2 } }),
    ]);
    expect(connections).toHaveLength(1);
  });

  it('keeps the path of the base URL', async () => {
    const urls: Array<string | undefined> = [];
    handler = (req, body, res) => {
      urls.push(req.url);
      answer(200, CONTINUE)(req, body, res);
    };
    await client({ baseUrl: `${baseUrl}/ingest` }).sendHeartbeat(heartbeat);
    expect(urls).toEqual(['/ingest/api/v1/heartbeat']);
  });

  it('turns a 400 body into an ApiError with code and field errors', async () => {
    handler = answer(
      400,
      JSON.stringify({
        statusCode: 400,
        code: 'ValidationFailed',
        message: 'invalid heartbeat',
        errors: [{ field: 'seq', message: 'expected a non-negative integer' }],
      }),
    );
    const error = await client()
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'ValidationFailed',
      message: 'invalid heartbeat',
      fieldErrors: [{ field: 'seq', message: 'expected a non-negative integer' }],
      retryable: false,
    });
  });

  it('keeps the status of a non-JSON 503 and marks it retryable', async () => {
    handler = answer(503, 'upstream unavailable');
    const error = await client()
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'ApiError',
      status: 503,
      code: 'HTTP_503',
      message: 'upstream unavailable',
      retryable: true,
    });
  });

  it('reports a 200 with an unexpected body as INVALID_RESPONSE naming the fields', async () => {
    handler = answer(200, '{"desiredState":"explode"}');
    const error = await client()
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 200, code: 'INVALID_RESPONSE' });
    expect((error as ApiError).message).toBe(
      'POST /api/v1/heartbeat answered 200 with an unexpected body',
    );
    expect((error as ApiError).fieldErrors.map((f) => f.field)).toEqual([
      'desiredState',
      'intervalMs',
    ]);
  });

  it('reports a server that does not answer in time as a timeout NetworkError', async () => {
    handler = () => undefined; // never answers
    const error = await client({ timeoutMs: 100 })
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      failure: 'timeout',
      retryable: true,
      url: `${baseUrl}/api/v1/heartbeat`,
    });
  });

  it('reports a closed port as an unreachable NetworkError without the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await client({ baseUrl: `http://127.0.0.1:${port}`, token: 'never-print-me' })
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ failure: 'unreachable' });
    expect((error as Error).message).toContain(`Could not reach http://127.0.0.1:${port}`);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain('never-print-me');
  });

  it('sends again on a new connection when the kept-alive one was closed by the server', async () => {
    const seqs: number[] = [];
    handler = (req, body, res) => {
      const { seq } = JSON.parse(body) as HeartbeatRequest;
      seqs.push(seq);
      // The second heartbeat arrives on the kept-alive connection: drop it unanswered, as a
      // server closing an idle connection at that moment does.
      if (seqs.length === 2) req.socket.destroy();
      else answer(200, CONTINUE)(req, body, res);
    };
    const heartbeats = client();
    await heartbeats.sendHeartbeat(heartbeat);

    await expect(heartbeats.sendHeartbeat({ ...heartbeat, seq: 2 })).resolves.toEqual({
      desiredState: 'continue',
      intervalMs: 10000,
    });
    expect(seqs).toEqual([1, 2, 2]);
    expect(connections).toHaveLength(2);
  });

  it('does not send again when a new connection is dropped', async () => {
    let requests = 0;
    handler = (req) => {
      requests++;
      req.socket.destroy();
    };
    const error = await client()
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ failure: 'unreachable' });
    expect(requests).toBe(1);
  });
});
