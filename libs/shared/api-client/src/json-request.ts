import { z } from 'zod';

import { ApiError, type ApiFieldError, NetworkError } from './api-client.errors';

/** `fetch` as Node 20 provides it; injected so tests can answer without a server. */
export type FetchFunction = typeof fetch;

export interface JsonRequest<T> {
  /** Base URL of the service, e.g. `http://127.0.0.1:7414`; `path` is resolved against it. */
  readonly baseUrl: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the base URL, e.g. `/api/v1/heartbeat`. */
  readonly path: string;
  /** Query parameters; `undefined` values are left out. */
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Sent as `Authorization: Bearer <token>`; never part of an error message. */
  readonly token?: string;
  /** Serialized as JSON. */
  readonly body?: unknown;
  /** Validates and types the success body. */
  readonly schema: z.ZodType<T>;
  /** Abort and report a `timeout` `NetworkError` after this long. */
  readonly timeoutMs: number;
  readonly fetch?: FetchFunction;
}

const errorBodySchema = z.object({
  statusCode: z.number().int().optional(),
  code: z.string().min(1).optional(),
  message: z.union([z.string(), z.array(z.string())]).optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
  details: z.unknown().optional(),
});

const MAX_TEXT_IN_MESSAGE = 200;

/**
 * Sends one JSON request and returns the validated success body.
 *
 * @throws NetworkError when no answer came back (unreachable or timed out).
 * @throws ApiError when the answer is not a success, or its body does not match `schema`.
 */
export async function requestJson<T>(request: JsonRequest<T>): Promise<T> {
  const url = resolveUrl(request.baseUrl, request.path, request.query);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  const doFetch = request.fetch ?? fetch;

  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
    });
    text = await response.text();
  } catch (error) {
    throw new NetworkError(signal.aborted ? 'timeout' : 'unreachable', url, { cause: error });
  }

  if (!response.ok) throw errorFromAnswer(response.status, text);
  return successBody(request, response.status, text);
}

/**
 * The validated body of a success answer.
 *
 * @throws ApiError `INVALID_RESPONSE` naming the fields when the body does not match `schema`.
 */
export function successBody<T>(
  request: Pick<JsonRequest<T>, 'method' | 'path' | 'schema'>,
  status: number,
  text: string,
): T {
  const parsed = request.schema.safeParse(parseJson(text));
  if (!parsed.success) {
    throw new ApiError(
      status,
      'INVALID_RESPONSE',
      `${request.method} ${request.path} answered ${status} with an unexpected body`,
      parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || '(body)',
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** Resolves `path` below `baseUrl` (keeping the base's own path) and appends `query`. */
export function resolveUrl(
  baseUrl: string,
  path: string,
  query: Readonly<Record<string, string | undefined>> = {},
): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const url = new URL(path.replace(/^\//, ''), base);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Builds the `ApiError` for a non-success answer from its status and body text. */
export function errorFromAnswer(status: number, text: string): ApiError {
  const parsed = errorBodySchema.safeParse(parseJson(text));
  if (!parsed.success) {
    const snippet = text.trim().slice(0, MAX_TEXT_IN_MESSAGE);
    return new ApiError(status, `HTTP_${status}`, snippet || `HTTP ${status}`);
  }
  const body = parsed.data;
  const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
  const fieldErrors: ApiFieldError[] = body.errors ?? [];
  return new ApiError(
    status,
    body.code ?? `HTTP_${status}`,
    message ?? `HTTP ${status}`,
    fieldErrors,
    body.requestId,
    body.details,
  );
}
