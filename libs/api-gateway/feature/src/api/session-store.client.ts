import { Inject, Injectable } from '@nestjs/common';
import {
  SESSION_STORE_SERVICE,
  type SessionStorePattern,
  sessionStoreReplySchemas,
  type sessionStoreRequestSchemas,
} from '@stratavore/contracts';
import { MESSAGE_BUS, type RequestClient } from '@stratavore/messaging';
import { currentCorrelationId } from '@stratavore/observability';
import { type z } from 'zod';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';

export type SessionStorePayload<P extends SessionStorePattern> = z.output<
  (typeof sessionStoreRequestSchemas)[P]
>;
export type SessionStoreReply<P extends SessionStorePattern> = z.output<
  (typeof sessionStoreReplySchemas)[P]
>;

/**
 * Requests to session-store over the bus, carrying the HTTP request's correlation id. Payloads
 * were validated at the edge; replies are validated here, so a malformed one is a 502.
 */
@Injectable()
export class SessionStoreClient {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: RequestClient,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  async request<P extends SessionStorePattern>(
    pattern: P,
    payload: SessionStorePayload<P>,
  ): Promise<SessionStoreReply<P>> {
    const correlationId = currentCorrelationId();
    const reply = await this.bus.request<unknown>(SESSION_STORE_SERVICE, pattern, payload, {
      timeoutMs: this.options.requestTimeoutMs,
      ...(correlationId === undefined ? {} : { correlationId }),
    });
    const parsed = sessionStoreReplySchemas[pattern].safeParse(reply);
    if (!parsed.success) {
      throw new GatewayException(
        GatewayErrorCode.UpstreamError,
        `${SESSION_STORE_SERVICE} sent a malformed reply to ${pattern}`,
        undefined,
        { cause: parsed.error },
      );
    }
    return parsed.data as SessionStoreReply<P>;
  }
}
