import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

import { type HeartbeatRequest } from '@stratavore/contracts';

import { ApiError, NetworkError } from './api-client.errors';
import { StratavoreApiClient } from './stratavore-api-client';

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

describe('StratavoreApiClient.sendHeartbeat', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function answer(status: number, body: string): Handler {
    return (_req, _body, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
  }

  it('posts the body with the bearer token and returns the validated answer', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: unknown }> = [];
    handler = (req, body, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: JSON.parse(body),
      });
      answer(200, '{"desiredState":"stop","intervalMs":5000}')(req, body, res);
    };
    const client = new StratavoreApiClient({ baseUrl: `${baseUrl}/`, token: 's3cret' });

    await expect(client.sendHeartbeat(heartbeat)).resolves.toEqual({
      desiredState: 'stop',
      intervalMs: 5000,
    });
    expect(seen).toEqual([
      { method: 'POST', url: '/api/v1/heartbeat', auth: 'Bearer s3cret', body: heartbeat },
    ]);
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
    const error = await new StratavoreApiClient({ baseUrl, token: 't' })
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
    const error = await new StratavoreApiClient({ baseUrl, token: 't' })
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

  it('reports a 200 with an unexpected body as INVALID_RESPONSE', async () => {
    handler = answer(200, '{"desiredState":"explode"}');
    const error = await new StratavoreApiClient({ baseUrl, token: 't' })
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 200, code: 'INVALID_RESPONSE' });
    expect((error as ApiError).fieldErrors.map((f) => f.field)).toEqual([
      'desiredState',
      'intervalMs',
    ]);
  });

  it('reports a server that does not answer in time as a timeout NetworkError', async () => {
    handler = () => undefined; // never answers
    const error = await new StratavoreApiClient({ baseUrl, token: 't', timeoutMs: 100 })
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ failure: 'timeout', retryable: true });
  });

  it('reports a closed port as an unreachable NetworkError without the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await new StratavoreApiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 'never-print-me',
    })
      .sendHeartbeat(heartbeat)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ failure: 'unreachable' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as Error).message).not.toContain('never-print-me');
  });
});

describe('StratavoreApiClient.runnerLogs', () => {
  const runnerId = '11111111-1111-4111-8111-111111111111';
  const reply = {
    content: 'bye\n',
    offset: 6,
    nextOffset: 10,
    size: 10,
    runnerState: 'completed',
    ended: true,
  };

  function clientAnswering(status: number, body: unknown, urls: string[]) {
    return new StratavoreApiClient({
      baseUrl: 'http://stratavore.test',
      token: 'k',
      fetch: (input) => {
        urls.push(input instanceof Request ? input.url : input.toString());
        return Promise.resolve(
          new Response(JSON.stringify(body), {
            status,
            headers: { 'content-type': 'application/json' },
          }),
        );
      },
    });
  }

  it('sends offset, limit and tail as query parameters and returns the validated window', async () => {
    const urls: string[] = [];
    const client = clientAnswering(200, reply, urls);

    await expect(client.runnerLogs(runnerId, { offset: 6, limit: 1024 })).resolves.toEqual(reply);
    await client.runnerLogs(runnerId, { tail: 0 });
    await client.runnerLogs(runnerId);

    expect(urls).toEqual([
      `http://stratavore.test/api/v1/runners/${runnerId}/logs?offset=6&limit=1024`,
      `http://stratavore.test/api/v1/runners/${runnerId}/logs?tail=0`,
      `http://stratavore.test/api/v1/runners/${runnerId}/logs`,
    ]);
  });

  it('refuses a reply without nextOffset, and keeps the code of a 404', async () => {
    const broken = clientAnswering(200, { ...reply, nextOffset: undefined }, []);
    await expect(broken.runnerLogs(runnerId)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });

    const unavailable = clientAnswering(
      404,
      { statusCode: 404, code: 'RUNNER_LOG_UNAVAILABLE', message: 'the log is on host b' },
      [],
    );
    await expect(unavailable.runnerLogs(runnerId)).rejects.toMatchObject({
      status: 404,
      code: 'RUNNER_LOG_UNAVAILABLE',
    });
  });
});
