import { Inject, Injectable } from '@nestjs/common';
import {
  RUNNER_MANAGER_SERVICE,
  type RunnerManagerPattern,
  runnerManagerReplySchemas,
  type runnerManagerRequestSchemas,
} from '@stratavore/contracts';
import { MESSAGE_BUS, type RequestClient } from '@stratavore/messaging';
import { currentCorrelationId } from '@stratavore/observability';
import { type z } from 'zod';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';

export type RunnerManagerPayload<P extends RunnerManagerPattern> = z.output<
  (typeof runnerManagerRequestSchemas)[P]
>;
export type RunnerManagerReply<P extends RunnerManagerPattern> = z.output<
  (typeof runnerManagerReplySchemas)[P]
>;

/**
 * Requests to runner-manager over the bus, carrying the HTTP request's correlation id. Payloads
 * were validated at the edge; replies are validated here, so a malformed one is a 502, not a
 * crash further down.
 */
@Injectable()
export class RunnerManagerClient {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: RequestClient,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  async request<P extends RunnerManagerPattern>(
    pattern: P,
    payload: RunnerManagerPayload<P>,
  ): Promise<RunnerManagerReply<P>> {
    const correlationId = currentCorrelationId();
    const reply = await this.bus.request<unknown>(RUNNER_MANAGER_SERVICE, pattern, payload, {
      timeoutMs: this.options.requestTimeoutMs,
      ...(correlationId === undefined ? {} : { correlationId }),
    });
    const parsed = runnerManagerReplySchemas[pattern].safeParse(reply);
    if (!parsed.success) {
      throw new GatewayException(
        GatewayErrorCode.UpstreamError,
        `${RUNNER_MANAGER_SERVICE} sent a malformed reply to ${pattern}`,
        undefined,
        { cause: parsed.error },
      );
    }
    return parsed.data as RunnerManagerReply<P>;
  }
}
