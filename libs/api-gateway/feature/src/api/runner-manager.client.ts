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
import { compileShapeCheck, type ShapeCheck } from '../http/reply-shape';
import { PROJECT_CACHE, type ReadCache, RUNNER_LIST_CACHE } from './read-cache';

export type RunnerManagerPayload<P extends RunnerManagerPattern> = z.output<
  (typeof runnerManagerRequestSchemas)[P]
>;
export type RunnerManagerReply<P extends RunnerManagerPattern> = z.output<
  (typeof runnerManagerReplySchemas)[P]
>;

/**
 * Replies checked by their shape only ({@link compileShapeCheck}: types, required fields,
 * enums; not string formats): the API's frequent reads, which runner-manager builds from typed
 * rows and the gateway writes with the same schema's serializer. A zod parse of a page of 50
 * runners took ~0.2 ms, twice the serializer's time (docs/benchmarks.md, "api-read").
 */
const SHAPE_CHECKED_REPLIES: Partial<Record<RunnerManagerPattern, ShapeCheck>> = {
  'runners.get': compileShapeCheck(runnerManagerReplySchemas['runners.get']),
  'runners.list': compileShapeCheck(runnerManagerReplySchemas['runners.list']),
};

/** Queries: the only requests after which the gateway's read caches stay as they are. */
const READS: ReadonlySet<RunnerManagerPattern> = new Set<RunnerManagerPattern>([
  'projects.list',
  'projects.get',
  'runners.list',
  'runners.get',
  'runners.status',
  'runners.logs',
  'worktrees.list',
]);

/**
 * Requests to runner-manager over the bus, carrying the HTTP request's correlation id. Payloads
 * were validated at the edge; replies are validated here (by shape only for
 * {@link SHAPE_CHECKED_REPLIES}), so a malformed one is a 502, not a crash further down. Any
 * other request than a {@link READS} query drops the runner list and project caches once it is
 * answered or failed (a timed-out launch may still have happened), so the caller's next read
 * shows it.
 */
@Injectable()
export class RunnerManagerClient {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: RequestClient,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
    @Inject(RUNNER_LIST_CACHE) private readonly listCache: ReadCache<unknown>,
    @Inject(PROJECT_CACHE) private readonly projectCache: ReadCache<unknown>,
  ) {}

  async request<P extends RunnerManagerPattern>(
    pattern: P,
    payload: RunnerManagerPayload<P>,
  ): Promise<RunnerManagerReply<P>> {
    const correlationId = currentCorrelationId();
    const sent = this.bus.request<unknown>(RUNNER_MANAGER_SERVICE, pattern, payload, {
      timeoutMs: this.options.requestTimeoutMs,
      ...(correlationId === undefined ? {} : { correlationId }),
    });
    const reply = READS.has(pattern)
      ? await sent
      : await sent.finally(() => {
          this.listCache.invalidate();
          this.projectCache.invalidate();
        });
    const shape = SHAPE_CHECKED_REPLIES[pattern];
    if (shape !== undefined) {
      const problem = shape(reply);
      if (problem !== null) throw malformedReply(pattern, new Error(problem));
      return reply as RunnerManagerReply<P>;
    }
    const parsed = runnerManagerReplySchemas[pattern].safeParse(reply);
    if (!parsed.success) throw malformedReply(pattern, parsed.error);
    return parsed.data as RunnerManagerReply<P>;
  }
}

function malformedReply(pattern: RunnerManagerPattern, cause: Error): GatewayException {
  return new GatewayException(
    GatewayErrorCode.UpstreamError,
    `${RUNNER_MANAGER_SERVICE} sent a malformed reply to ${pattern}`,
    undefined,
    { cause },
  );
}
