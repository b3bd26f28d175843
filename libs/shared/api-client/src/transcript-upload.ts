import { type TranscriptMetadata, transcriptMetadataSchema } from '@stratavore/contracts';

import { ApiError, NetworkError } from './api-client.errors';
import { errorFromAnswer, type FetchFunction, resolveUrl } from './json-request';

/** What a transcript upload may send: the whole JSONL, or its bytes as they are read. */
export type TranscriptBody = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface TranscriptUploadRequest {
  readonly baseUrl: string;
  /** The runner token (`STRATAVORE_RUNNER_TOKEN`). */
  readonly token: string;
  readonly sessionId: string;
  /** `main` or `subagent-<agentId>`. */
  readonly kind: string;
  readonly body: TranscriptBody;
  readonly timeoutMs: number;
  readonly fetch?: FetchFunction;
}

function asStream(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * `PUT /api/v1/sessions/:sessionId/transcripts/:kind` as `application/x-ndjson`, streamed when
 * the body is an async iterable (docs/sessions.md, "Transcripts").
 *
 * @throws NetworkError when session-store could not be reached or did not answer in time.
 * @throws ApiError for any other answer than `200` (`401`, `403`, `404`, `413`, `415`, `5xx`).
 */
export async function uploadTranscript(
  request: TranscriptUploadRequest,
): Promise<TranscriptMetadata> {
  const url = resolveUrl(
    request.baseUrl,
    `/api/v1/sessions/${encodeURIComponent(request.sessionId)}/transcripts/${encodeURIComponent(request.kind)}`,
  );
  const body =
    typeof request.body === 'string' || request.body instanceof Uint8Array
      ? request.body
      : asStream(request.body);
  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await (request.fetch ?? fetch)(url, {
      method: 'PUT',
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-ndjson',
        authorization: `Bearer ${request.token}`,
      },
      body,
      signal,
      // Node's fetch streams a ReadableStream body only in half-duplex mode.
      duplex: 'half',
    });
    text = await response.text();
  } catch (error) {
    throw new NetworkError(signal.aborted ? 'timeout' : 'unreachable', url, { cause: error });
  }
  if (!response.ok) throw errorFromAnswer(response.status, text);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  const parsed = transcriptMetadataSchema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(
      response.status,
      'INVALID_RESPONSE',
      `PUT transcript answered ${response.status} with an unexpected body`,
      parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || '(body)',
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}
