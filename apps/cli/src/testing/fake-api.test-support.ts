import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

/** One request the test expects, and the answer it gets. */
export interface ExpectedRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with query, exactly as sent: `/api/v1/runners?project=web`. */
  readonly path: string;
  readonly status?: number;
  /** JSON answer; a function makes it from the request's JSON body. */
  readonly reply?: unknown;
  /** The JSON body the request must carry (compared with `toEqual` semantics by the test). */
  readonly body?: unknown;
  /** Answer as `text/event-stream` with these events, then keep the stream open. */
  readonly events?: ReadonlyArray<{ type: string; data: unknown; id?: string }>;
}

interface Received {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

/**
 * A strict fake of the Stratavore API on 127.0.0.1: every request must have been declared with
 * `expect` (in order); `verify` fails on an unexpected request and on a declared one never sent.
 */
export class FakeApi {
  private readonly pending: ExpectedRequest[] = [];
  private readonly unexpected: string[] = [];
  private readonly openStreams = new Set<ServerResponse>();
  readonly received: Received[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeApi> {
    const holder: { api?: FakeApi } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => holder.api?.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.api = new FakeApi(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.api;
  }

  expect(...requests: ExpectedRequest[]): this {
    this.pending.push(...requests);
    return this;
  }

  /** Throws when a request came that nobody declared, or a declared one never came. */
  verify(): void {
    const problems = [
      ...this.unexpected.map((line) => `unexpected request: ${line}`),
      ...this.pending.map((e) => `expected request not received: ${e.method} ${e.path}`),
    ];
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }

  async stop(): Promise<void> {
    for (const stream of this.openStreams) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: IncomingMessage, text: string, res: ServerResponse): void {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    this.received.push({ method, path, authorization: req.headers.authorization, body });

    const expected = this.pending[0];
    if (!expected || expected.method !== method || expected.path !== path) {
      this.unexpected.push(`${method} ${path}`);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ statusCode: 500, code: 'UNEXPECTED', message: `fake: ${method} ${path}` }),
      );
      return;
    }
    if (expected.body !== undefined && JSON.stringify(expected.body) !== JSON.stringify(body)) {
      this.unexpected.push(
        `${method} ${path} with body ${text}, expected ${JSON.stringify(expected.body)}`,
      );
    }
    this.pending.shift();

    if (expected.events) {
      res.writeHead(expected.status ?? 200, { 'content-type': 'text/event-stream' });
      for (const event of expected.events) {
        const id = event.id === undefined ? '' : `id: ${event.id}\n`;
        res.write(`${id}event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
      }
      this.openStreams.add(res);
      res.on('close', () => this.openStreams.delete(res));
      return;
    }
    res.writeHead(expected.status ?? 200, { 'content-type': 'application/json' });
    const reply: unknown =
      typeof expected.reply === 'function'
        ? (expected.reply as (body: unknown) => unknown)(body)
        : expected.reply;
    res.end(reply === undefined ? '' : JSON.stringify(reply));
  }
}
