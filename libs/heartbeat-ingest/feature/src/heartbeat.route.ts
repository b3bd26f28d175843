import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HEARTBEAT_DESIRED_STATES } from '@stratavore/contracts';
import { ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { currentCorrelationId } from '@stratavore/observability';

import { HeartbeatErrorCode, HeartbeatException, httpStatusOf } from './heartbeat.exception';
import { IngestHeartbeat } from './ingest-heartbeat.use-case';

export const HEARTBEAT_PATH = '/api/v1/heartbeat';

/** The parts of Fastify's request the route reads (fastify is not a workspace dependency). */
interface RouteRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** The parts of Fastify's reply the route uses. */
interface RouteReply {
  code(statusCode: number): RouteReply;
  send(payload: unknown): RouteReply;
}

/** The part of a Fastify instance that registers a route. */
interface RouteRegistry {
  route(options: {
    method: 'POST';
    url: string;
    schema: { response: Record<number, unknown> };
    handler: (request: RouteRequest, reply: RouteReply) => Promise<unknown>;
  }): unknown;
}

/**
 * The answer's JSON schema: Fastify compiles a serializer from it (no `JSON.stringify` walk per
 * answer). Mirrors `heartbeatAnswerSchema`, whose values the use case produces.
 */
const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    desiredState: { type: 'string', enum: [...HEARTBEAT_DESIRED_STATES] },
    intervalMs: { type: 'integer' },
  },
  required: ['desiredState', 'intervalMs'],
  additionalProperties: false,
} as const;

/** Nest's answer to an unexpected error, kept so clients see no difference. */
const INTERNAL_ERROR = { statusCode: 500, message: 'Internal server error' } as const;

/**
 * The agents' endpoint `POST /api/v1/heartbeat` (docs/runners.md, "Heartbeat protocol"), as a
 * route of the application's Fastify instance rather than a Nest controller: a heartbeat is the
 * one request every agent sends every interval, and the controller pipeline (execution context,
 * guards, interceptors, exception zone, parameter extraction) was overhead it does not need
 * (~10 % of the server's CPU per heartbeat, docs/benchmarks.md, "heartbeat"). Everything else
 * is the same: the hooks of the instance (correlation id, `x-request-id`) run, the body is
 * Fastify's JSON parse, refusals are `{ statusCode, code, message, errors? }` with the status of
 * their code, an unexpected error is logged and answered 500 as Nest does.
 */
@Injectable()
export class HeartbeatRoute implements OnModuleInit {
  private readonly logger = new Logger('HeartbeatRoute');

  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(IngestHeartbeat) private readonly ingest: IngestHeartbeat,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
  ) {}

  onModuleInit(): void {
    // An adapter-less application (a microservice, a test without HTTP) serves no route.
    const adapter = this.host.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    const fastify = adapter?.getInstance<Partial<RouteRegistry>>();
    if (typeof fastify?.route !== 'function') return;
    fastify.route({
      method: 'POST',
      url: HEARTBEAT_PATH,
      schema: { response: { 200: ANSWER_JSON_SCHEMA } },
      handler: (request, reply) => this.handle(request, reply),
    });
  }

  private async handle(request: RouteRequest, reply: RouteReply): Promise<unknown> {
    const authorization = request.headers.authorization;
    try {
      return await this.ingest.execute(
        typeof authorization === 'string' ? authorization : undefined,
        request.body,
        currentCorrelationId() ?? this.ids.uuid(),
      );
    } catch (error) {
      if (!(error instanceof HeartbeatException)) {
        this.logger.error(
          `heartbeat failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        return reply.code(500).send(INTERNAL_ERROR);
      }
      const statusCode = httpStatusOf(error.code);
      return reply.code(statusCode).send({
        statusCode,
        code: error.code,
        message: error.message,
        ...(error.code === HeartbeatErrorCode.ValidationFailed ? { errors: error.errors } : {}),
      });
    }
  }
}
