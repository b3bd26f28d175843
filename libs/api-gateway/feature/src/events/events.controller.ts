import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { type EventEnvelope } from '@stratavore/contracts';
import { z } from 'zod';

import { GatewayRoutes } from '../api/gateway-routes.decorator';
import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { parseAtEdge } from '../http/edge-validation';
import { type GatewayReply, type GatewayRequest } from '../http/http-types';
import { RequiredScope } from '../keys/api-scope';
import { EventStreamHub } from './event-stream.hub';

const TOPIC_PATTERN = /^(\*|#|[A-Za-z0-9_-]+)(\.(\*|#|[A-Za-z0-9_-]+))*$/;

/** `?types=runner.*,budget.exceeded`: comma-separated topic patterns, default everything. */
export const eventStreamQuerySchema = z.strictObject({
  types: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value.trim() === ''
        ? ['#']
        : value.split(',').map((part) => part.trim()),
    )
    .pipe(
      z.array(
        z.string().regex(TOPIC_PATTERN, {
          error: 'expected event types or topic patterns (runner.*, budget.exceeded, #)',
        }),
      ),
    ),
});

/** Above this many unsent bytes a client is too slow to follow; it is disconnected. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

function frame(envelope: EventEnvelope): string {
  const { signature: _signature, ...event } = envelope;
  return `id: ${envelope.id}\nevent: ${envelope.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

@GatewayRoutes()
@Controller('api/v1/events')
export class EventsController {
  constructor(
    @Inject(EventStreamHub) private readonly hub: EventStreamHub,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  /** Server-sent events: every bus event matching `types`, as `event: <type>` / `data: <json>`. */
  @Get()
  @RequiredScope('viewer')
  async stream(
    @Req() request: GatewayRequest,
    @Res() reply: GatewayReply,
    @Query() query: unknown,
  ): Promise<void> {
    const { types } = parseAtEdge(eventStreamQuerySchema, query, 'query');
    await this.hub.ready();

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...reply.getHeaders(),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': connected\n\n');

    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      detach();
      raw.end();
    };
    const write = (chunk: string) => {
      if (closed) return;
      if (raw.writableLength > MAX_BUFFERED_BYTES) {
        close();
        return;
      }
      raw.write(chunk);
    };
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), this.options.sseKeepAliveMs);
    const detach = this.hub.attach({
      patterns: types,
      send: (envelope) => write(frame(envelope)),
      close,
    });
    request.raw.once('close', close);
    raw.once('close', close);
  }
}
