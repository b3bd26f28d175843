import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';

import { z } from 'zod';

/** Token counts of one response, as the Messages API reports them. */
export interface StandInUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens: number;
  readonly cache_read_input_tokens: number;
  /** Split of `cache_creation_input_tokens` by cache lifetime. */
  readonly cache_creation: {
    readonly ephemeral_5m_input_tokens: number;
    readonly ephemeral_1h_input_tokens: number;
  };
}

/** A content block the stand-in answers with. Tool-use ids are made by the stand-in. */
export type StandInBlock =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'tool_use';
      readonly name: string;
      readonly input: Readonly<Record<string, unknown>>;
    };

/** One scripted answer of the main conversation. */
export interface StandInTurn {
  readonly content: readonly StandInBlock[];
  /** Default: `tool_use` when the turn calls a tool, `end_turn` otherwise. */
  readonly stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  /** Overrides the generated usage of this response. */
  readonly usage?: Partial<Omit<StandInUsage, 'cache_creation'>> & {
    readonly cache_creation?: StandInUsage['cache_creation'];
  };
}

/**
 * The two turns of a scripted Bash call: the model runs `command` (writing a file, by default
 * `echo hello > out.txt`), then answers `reply` once the CLI sent the tool's result. `preface`
 * is a text block before the call.
 */
export function bashCallTurns(
  options: {
    readonly command?: string;
    readonly description?: string;
    readonly reply?: string;
    readonly preface?: string;
  } = {},
): [StandInTurn, StandInTurn] {
  const call: StandInBlock = {
    type: 'tool_use',
    name: 'Bash',
    input: {
      command: options.command ?? 'echo hello > out.txt',
      description: options.description ?? 'Write out.txt',
    },
  };
  return [
    {
      content:
        options.preface === undefined ? [call] : [{ type: 'text', text: options.preface }, call],
    },
    { content: [{ type: 'text', text: options.reply ?? 'Wrote out.txt.' }] },
  ];
}

/** A `tool_result` block the CLI sent back, as the stand-in received it. */
export interface ReceivedToolResult {
  readonly toolUseId: string;
  readonly isError: boolean;
  /** The result's text (text parts joined when it came as a list). */
  readonly content: string;
}

/** What the stand-in served for one `POST /v1/messages`. */
export interface ServedResponse {
  /** 1-based, over every response this stand-in served (script and side calls). */
  readonly serial: number;
  /** `script`: a turn of the scripted conversation; `side`: a call for another model. */
  readonly kind: 'script' | 'side';
  /** 0-based index of the script turn (script responses only). */
  readonly turn: number | null;
  readonly messageId: string;
  readonly requestId: string;
  readonly model: string;
  readonly stream: boolean;
  readonly stopReason: string;
  /** The final usage of the response (what `message_delta` reported when streaming). */
  readonly usage: StandInUsage;
  readonly toolUses: readonly {
    readonly id: string;
    readonly name: string;
    readonly input: Readonly<Record<string, unknown>>;
  }[];
  /** Number of messages in the request (the conversation so far, as the CLI sent it). */
  readonly requestMessages: number;
  /** The `tool_result` blocks of the request's last user message. */
  readonly toolResults: readonly ReceivedToolResult[];
  /** The request's `x-claude-code-session-id` header, when the CLI sent one. */
  readonly sessionId: string | null;
}

/** How the stand-in handled one HTTP request. */
export type StandInRequestOutcome =
  | 'messages'
  | 'count-tokens'
  | 'preflight'
  /** A request for a path the stand-in does not implement (answered 404). */
  | 'unknown'
  /** A request whose body is not a valid Messages API request (answered 400). */
  | 'invalid'
  /** A main-model request after the script ran out (answered 400). */
  | 'unscripted'
  /** A request meant for another host, sent through the stand-in as HTTP proxy (refused). */
  | 'proxy';

/** Every HTTP request the stand-in received, in arrival order. */
export interface RecordedRequest {
  readonly method: string;
  /** Path with query string (`/v1/messages?beta=true`), or `host:port` for a proxy CONNECT. */
  readonly path: string;
  readonly model: string | null;
  readonly stream: boolean | null;
  readonly status: number;
  readonly outcome: StandInRequestOutcome;
  /** Why the request was refused, for `invalid`, `unscripted`, `unknown` and `proxy`. */
  readonly detail: string | null;
}

export interface ClaudeStandInOptions {
  /**
   * The model the scripted conversation answers (pass the same to `claude --model`). A request
   * for any other model is a side call (title generation and the like on the small fast model):
   * it gets a short answer with its own usage and does not consume a turn.
   */
  readonly model: string;
  /** The scripted conversation, served in order to the main model's requests. */
  readonly turns?: readonly StandInTurn[];
  /** Usage of the response with the given serial number. Default: {@link defaultStandInUsage}. */
  readonly usage?: (serial: number) => StandInUsage;
  /** Prefix of message, request and tool-use ids, to keep them apart across stand-ins. */
  readonly idPrefix?: string;
  /** Text of a side call's answer; JSON-schema side calls get an object of that schema instead. */
  readonly sideText?: string;
}

/**
 * Usage numbers that are deterministic and distinct for every response and every token kind, so
 * a sum over responses tells which responses were counted (and which twice):
 * input `1000 + 10n + 1`, output `200 + 10n + 2`, cache creation `5000 + 100n + 3` (all 5-minute
 * cache), cache read `20000 + 1000n + 4`, for the response with serial number `n`.
 */
export function defaultStandInUsage(serial: number): StandInUsage {
  const cacheCreation = 5000 + 100 * serial + 3;
  return {
    input_tokens: 1000 + 10 * serial + 1,
    output_tokens: 200 + 10 * serial + 2,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: 20000 + 1000 * serial + 4,
    cache_creation: { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 },
  };
}

/** Adds usages kind by kind (an empty list gives zeros). */
export function sumStandInUsage(usages: readonly StandInUsage[]): StandInUsage {
  const total = {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  };
  for (const usage of usages) {
    total.input_tokens += usage.input_tokens;
    total.output_tokens += usage.output_tokens;
    total.cache_creation_input_tokens += usage.cache_creation_input_tokens;
    total.cache_read_input_tokens += usage.cache_read_input_tokens;
    total.cache_creation.ephemeral_5m_input_tokens +=
      usage.cache_creation.ephemeral_5m_input_tokens;
    total.cache_creation.ephemeral_1h_input_tokens +=
      usage.cache_creation.ephemeral_1h_input_tokens;
  }
  return total;
}

const contentBlockSchema = z.looseObject({ type: z.string() });
const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(contentBlockSchema)]),
      }),
    )
    .min(1),
  stream: z.boolean().optional(),
  output_config: z
    .looseObject({
      format: z
        .looseObject({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional() })
        .optional(),
    })
    .optional(),
});
type MessagesRequest = z.infer<typeof messagesRequestSchema>;

const countTokensRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()),
});

const toolResultSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  is_error: z.boolean().optional(),
  content: z
    .union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))])
    .optional(),
});

/** Largest request body accepted; the CLI's first request is about 100 kB. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

type ServedContent =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'tool_use';
      readonly id: string;
      readonly name: string;
      readonly input: Readonly<Record<string, unknown>>;
    };

/**
 * A local stand-in for the Anthropic Messages API that the real Claude Code CLI runs against
 * (`ANTHROPIC_BASE_URL`). It listens on 127.0.0.1 on a free port and serves a scripted
 * conversation: `POST /v1/messages` streaming (the real server-sent event sequence, tool calls
 * as `input_json_delta`) or not, `POST /v1/messages/count_tokens`, and the CLI's `HEAD /`
 * preflight. Every response has its own message id, request id and usage, and the stand-in
 * records exactly what it served ({@link served}) and every request it received
 * ({@link requests}), so a test can compare what Stratavore counted with what was served.
 *
 * It is also an HTTP proxy that refuses everything (point `HTTPS_PROXY` at {@link url}): what the
 * CLI tries to reach elsewhere is recorded as `proxy` requests instead of leaving the machine.
 */
export class ClaudeStandIn {
  /** Responses served, in order. */
  readonly served: ServedResponse[] = [];
  /** Requests received, in order (proxy CONNECTs included). */
  readonly requests: RecordedRequest[] = [];
  private readonly turns: StandInTurn[];
  private nextTurn = 0;
  private serial = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The port on 127.0.0.1. */
    readonly port: number,
    private readonly options: ClaudeStandInOptions,
  ) {
    this.turns = [...(options.turns ?? [])];
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => this.receive(req, res));
    server.on('connect', (req, socket: Socket) => {
      this.record(req.method ?? 'CONNECT', req.url ?? '', null, null, 403, 'proxy', 'refused');
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
  }

  /** Starts a stand-in on 127.0.0.1 on a free port. */
  static async start(options: ClaudeStandInOptions): Promise<ClaudeStandIn> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('stand-in has no port');
    return new ClaudeStandIn(server, address.port, options);
  }

  /** `http://127.0.0.1:<port>`: the value for `ANTHROPIC_BASE_URL` (and `HTTPS_PROXY`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The main model the script answers. */
  get model(): string {
    return this.options.model;
  }

  /** Appends turns to the script (for a later `claude --resume`, say). */
  addTurns(...turns: StandInTurn[]): void {
    this.turns.push(...turns);
  }

  /** Script turns not served yet. */
  remainingTurns(): number {
    return this.turns.length - this.nextTurn;
  }

  /** Requests the stand-in could not answer as the real API would: say so in a failing test. */
  unexpectedRequests(): RecordedRequest[] {
    return this.requests.filter((request) =>
      ['unknown', 'invalid', 'unscripted'].includes(request.outcome),
    );
  }

  /** Hosts (`host:port`) the CLI tried to reach through the stand-in as proxy. */
  proxyTargets(): string[] {
    return this.requests
      .filter((request) => request.outcome === 'proxy')
      .map((request) => request.path);
  }

  /** Sum of the usage served, optionally only of one kind of response or one model. */
  servedUsage(filter: { readonly kind?: 'script' | 'side'; readonly model?: string } = {}) {
    return sumStandInUsage(
      this.served
        .filter((response) => filter.kind === undefined || response.kind === filter.kind)
        .filter((response) => filter.model === undefined || response.model === filter.model)
        .map((response) => response.usage),
    );
  }

  /** Usage served per model. */
  servedUsageByModel(): Record<string, StandInUsage> {
    const models = [...new Set(this.served.map((response) => response.model))];
    return Object.fromEntries(models.map((model) => [model, this.servedUsage({ model })]));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    // An absolute URI is a plain-HTTP proxy request for another host.
    if (/^[a-z]+:\/\//i.test(target)) {
      req.resume();
      this.record(method, target, null, null, 403, 'proxy', 'refused');
      res.writeHead(403).end();
      return;
    }
    const path = target.split('?')[0];
    if ((method === 'HEAD' || method === 'GET') && path === '/') {
      req.resume();
      this.record(method, target, null, null, 200, 'preflight', null);
      res.writeHead(200).end();
      return;
    }
    if (method === 'POST' && (path === '/v1/messages' || path === '/v1/messages/count_tokens')) {
      void this.readJson(req).then(
        (body) =>
          path === '/v1/messages'
            ? this.answerMessages(req, res, target, body)
            : this.answerCountTokens(res, target, body),
        (error: unknown) => {
          const detail = error instanceof Error ? error.message : String(error);
          this.record(method, target, null, null, 400, 'invalid', detail);
          sendError(res, 400, 'invalid_request_error', detail);
        },
      );
      return;
    }
    req.resume();
    const detail = `the stand-in does not implement ${method} ${path}`;
    this.record(method, target, null, null, 404, 'unknown', detail);
    sendError(res, 404, 'not_found_error', detail);
  }

  private answerCountTokens(res: ServerResponse, target: string, body: unknown): void {
    const parsed = countTokensRequestSchema.safeParse(body);
    if (!parsed.success) {
      const detail = describeIssues(parsed.error);
      this.record('POST', target, null, null, 400, 'invalid', detail);
      sendError(res, 400, 'invalid_request_error', detail);
      return;
    }
    this.record('POST', target, parsed.data.model, null, 200, 'count-tokens', null);
    // Deterministic and roughly proportional to the request, as a token count would be.
    const inputTokens = Math.ceil(JSON.stringify(parsed.data.messages).length / 4);
    sendJson(res, 200, { input_tokens: inputTokens });
  }

  private answerMessages(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    body: unknown,
  ): void {
    const parsed = messagesRequestSchema.safeParse(body);
    if (!parsed.success) {
      const detail = describeIssues(parsed.error);
      this.record('POST', target, null, null, 400, 'invalid', detail);
      sendError(res, 400, 'invalid_request_error', detail);
      return;
    }
    const request = parsed.data;
    const stream = request.stream === true;
    const side = request.model !== this.options.model;
    let turn: StandInTurn;
    let turnIndex: number | null = null;
    if (side) {
      turn = { content: [{ type: 'text', text: this.sideAnswer(request) }] };
    } else {
      const next = this.turns[this.nextTurn];
      if (next === undefined) {
        // 400, not 5xx: the CLI retries server errors with backoff, which would only slow the
        // failing test down.
        const detail = `the stand-in's script has no turn ${this.nextTurn + 1} for ${request.model}`;
        this.record('POST', target, request.model, stream, 400, 'unscripted', detail);
        sendError(res, 400, 'invalid_request_error', detail);
        return;
      }
      turn = next;
      turnIndex = this.nextTurn++;
    }

    const serial = ++this.serial;
    const prefix = this.options.idPrefix ?? 'stand_in';
    const messageId = `msg_${prefix}_${pad(serial)}`;
    const requestId = `req_${prefix}_${pad(serial)}`;
    const usage = this.usageFor(serial, turn);
    const content: ServedContent[] = turn.content.map((block, index) =>
      block.type === 'text' ? block : { ...block, id: `toolu_${prefix}_${pad(serial)}_${index}` },
    );
    const stopReason =
      turn.stopReason ??
      (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
    const sessionHeader = req.headers['x-claude-code-session-id'];

    this.served.push({
      serial,
      kind: side ? 'side' : 'script',
      turn: turnIndex,
      messageId,
      requestId,
      model: request.model,
      stream,
      stopReason,
      usage,
      toolUses: content.flatMap((block) =>
        block.type === 'tool_use' ? [{ id: block.id, name: block.name, input: block.input }] : [],
      ),
      requestMessages: request.messages.length,
      toolResults: toolResultsOf(request),
      sessionId: typeof sessionHeader === 'string' ? sessionHeader : null,
    });
    this.record('POST', target, request.model, stream, 200, 'messages', null);

    const message = { id: messageId, model: request.model, content, stopReason, usage };
    if (stream) streamMessage(res, requestId, message);
    else sendJson(res, 200, completeMessage(message), { 'request-id': requestId });
  }

  private usageFor(serial: number, turn: StandInTurn): StandInUsage {
    const base = (this.options.usage ?? defaultStandInUsage)(serial);
    const override = turn.usage ?? {};
    const cacheCreation = override.cache_creation_input_tokens ?? base.cache_creation_input_tokens;
    return {
      input_tokens: override.input_tokens ?? base.input_tokens,
      output_tokens: override.output_tokens ?? base.output_tokens,
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: override.cache_read_input_tokens ?? base.cache_read_input_tokens,
      cache_creation:
        override.cache_creation ??
        (override.cache_creation_input_tokens === undefined
          ? base.cache_creation
          : { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 }),
    };
  }

  /** A side call asking for JSON (the CLI's session title) gets an object of its schema. */
  private sideAnswer(request: MessagesRequest): string {
    const text = this.options.sideText ?? 'Stand-in answer';
    const schema = request.output_config?.format?.schema;
    if (request.output_config?.format?.type !== 'json_schema' || schema === undefined) return text;
    const properties = z.record(z.string(), z.unknown()).safeParse(schema.properties);
    if (!properties.success) return JSON.stringify({});
    return JSON.stringify(
      Object.fromEntries(Object.keys(properties.data).map((key) => [key, text])),
    );
  }

  private record(
    method: string,
    path: string,
    model: string | null,
    stream: boolean | null,
    status: number,
    outcome: StandInRequestOutcome,
    detail: string | null,
  ): void {
    this.requests.push({ method, path, model, stream, status, outcome, detail });
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new Error('request body is not JSON');
    }
  }
}

interface MessageToSend {
  readonly id: string;
  readonly model: string;
  readonly content: readonly ServedContent[];
  readonly stopReason: string;
  readonly usage: StandInUsage;
}

function completeMessage(message: MessageToSend) {
  return {
    id: message.id,
    type: 'message',
    role: 'assistant',
    model: message.model,
    content: message.content,
    stop_reason: message.stopReason,
    stop_sequence: null,
    usage: { ...message.usage, service_tier: 'standard' },
  };
}

/**
 * The event sequence of the real streaming API: `message_start` (input and cache usage final,
 * output tokens not yet), `ping`, per block `content_block_start` / `_delta`... / `_stop` (text in
 * two `text_delta`s, tool input as `input_json_delta` fragments), `message_delta` with the stop
 * reason and the final usage, `message_stop`.
 */
function streamMessage(res: ServerResponse, requestId: string, message: MessageToSend): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId,
  });
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const { usage } = message;
  send('message_start', {
    message: {
      ...completeMessage(message),
      content: [],
      stop_reason: null,
      usage: { ...usage, output_tokens: 1, service_tier: 'standard' },
    },
  });
  send('ping', {});
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const part of halves(block.text)) {
        send('content_block_delta', { index, delta: { type: 'text_delta', text: part } });
      }
    } else {
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      for (const part of halves(JSON.stringify(block.input))) {
        send('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        });
      }
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: message.stopReason, stop_sequence: null },
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
    },
  });
  send('message_stop', {});
  res.end();
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)].filter((part) => part.length > 0);
}

function toolResultsOf(request: MessagesRequest): ReceivedToolResult[] {
  const last = request.messages[request.messages.length - 1];
  if (last === undefined || last.role !== 'user' || typeof last.content === 'string') return [];
  return last.content.flatMap((block) => {
    const parsed = toolResultSchema.safeParse(block);
    if (!parsed.success) return [];
    const { content } = parsed.data;
    return [
      {
        toolUseId: parsed.data.tool_use_id,
        isError: parsed.data.is_error === true,
        content:
          typeof content === 'string'
            ? content
            : (content ?? []).map((part) => part.text ?? '').join(''),
      },
    ];
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { type: 'error', error: { type, message } });
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

function pad(serial: number): string {
  return String(serial).padStart(4, '0');
}
