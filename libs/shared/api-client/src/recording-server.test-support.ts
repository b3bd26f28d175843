import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly body: string;
  readonly authorization: string | undefined;
}

/** A local HTTP server that records every request and answers each with the current reply. */
export interface RecordingServer {
  readonly url: string;
  readonly seen: RecordedRequest[];
  /** Every request from now on is answered with this status and JSON body. */
  answer(status: number, body: unknown): void;
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const seen: RecordedRequest[] = [];
  let reply = { status: 500, body: { message: 'no answer set' } as unknown };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        body: Buffer.concat(chunks).toString(),
        authorization: req.headers.authorization,
      });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answer: (status, body) => {
      reply = { status, body };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
