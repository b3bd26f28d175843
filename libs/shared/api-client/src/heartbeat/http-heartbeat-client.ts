import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

import { type HeartbeatAnswer, type HeartbeatRequest } from '@stratavore/contracts/heartbeat';

import { NetworkError } from '../api-client.errors';
import { type HeartbeatClient } from './heartbeat-client';

export interface HttpHeartbeatClientOptions {
  /** Base URL of heartbeat-ingest (or the daemon). */
  readonly baseUrl: string;
  /** The runner token, sent as `Authorization: Bearer <token>`; never part of an error. */
  readonly token: string;
  /** Per heartbeat, connecting included. Default 10 s. */
  readonly timeoutMs?: number;
}

interface RawAnswer {
  readonly status: number;
  readonly text: string;
}

/** A request that failed before its answer arrived, and whether it went over a reused socket. */
class SendFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly reusedSocket: boolean,
  ) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

const HEARTBEAT_PATH = '/api/v1/heartbeat';
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `POST /api/v1/heartbeat` over `node:http` (or `node:https`) on one kept-alive connection: the
 * same answers and errors as `StratavoreApiClient.sendHeartbeat`, without `fetch`, whose first
 * call in a process costs 60-100 ms of CPU (Node loads undici and compiles its parser lazily) on
 * the agent's way to its first heartbeat. A heartbeat that meets a kept-alive connection the
 * server has just closed is sent once more at once on a new one (a repeated `seq` is harmless:
 * heartbeat-ingest books usage only above the last `seq`).
 */
export class HttpHeartbeatClient implements HeartbeatClient {
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly agent: HttpAgent;

  constructor(private readonly options: HttpHeartbeatClientOptions) {
    // As `resolveUrl` of json-request.ts: below the base URL, keeping its own path.
    const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.url = new URL(HEARTBEAT_PATH.slice(1), base);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
        : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  async sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer> {
    const payload = JSON.stringify(body);
    const signal = AbortSignal.timeout(this.timeoutMs);
    let answer: RawAnswer;
    try {
      answer = await this.post(payload, signal).catch((error: unknown) => {
        if (signal.aborted || !(error instanceof SendFailure) || !error.reusedSocket) throw error;
        return this.post(payload, signal);
      });
    } catch (error) {
      const cause = error instanceof SendFailure ? error.error : error;
      throw new NetworkError(signal.aborted ? 'timeout' : 'unreachable', this.url.toString(), {
        cause,
      });
    }
    if (answer.status >= 200 && answer.status <= 299) {
      const usual = usualAnswer(answer.text);
      if (usual !== null) return usual;
    }
    // Anything else is read as `StratavoreApiClient` reads it, with the zod schemas, loaded
    // only now: the usual answer is checked without zod, which costs ~40 ms of CPU to load on
    // the agent's way to its first heartbeat (docs/benchmarks.md, "launch").
    const { readHeartbeatAnswer } = await import('./heartbeat-answer');
    return readHeartbeatAnswer(HEARTBEAT_PATH, answer.status, answer.text);
  }

  /** Closes the kept-alive connection; a later heartbeat opens a new one. */
  close(): void {
    this.agent.destroy();
  }

  private post(payload: string, signal: AbortSignal): Promise<RawAnswer> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<RawAnswer>((resolve, reject) => {
      const request: ClientRequest = send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: {
            accept: 'application/json',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            authorization: `Bearer ${this.options.token}`,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('close', () => {
            if (!response.complete) {
              fail(new Error('the connection closed before the answer ended'));
            }
          });
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      // Called only once the request exists: every failure arrives after `send` returned.
      const fail = (error: unknown) => reject(new SendFailure(error, request.reusedSocket));
      request.on('error', fail);
      request.end(payload);
    });
  }
}

/**
 * The answer as `heartbeatAnswerSchema` gives it (its two fields; others are ignored) when the
 * body surely matches it, else null (the schema then reports what is wrong).
 */
function usualAnswer(text: string): HeartbeatAnswer | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object') return null;
  const { desiredState, intervalMs } = body as Record<string, unknown>;
  if (desiredState !== 'continue' && desiredState !== 'stop') return null;
  if (typeof intervalMs !== 'number' || !Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    return null;
  }
  return { desiredState, intervalMs };
}
