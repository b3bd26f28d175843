import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  type CancelQueuedReply,
  cancelQueuedRequestSchema,
  getRunnerRequestSchema,
  type LaunchRunnerReply,
  launchRunnerRequestSchema,
  listRunnersRequestSchema,
  type RunnerListReply,
  runnerListReplySchema,
  type RunnerLogsReply,
  runnerLogsRequestSchema,
  type RunnerReply,
  runnerReplySchema,
  stopRunnerRequestSchema,
} from '@stratavore/contracts';
import { counter } from '@stratavore/observability';
import { z } from 'zod';

import { parseAtEdge } from '../http/edge-validation';
import { type GatewayReply } from '../http/http-types';
import { SerializeReply } from '../http/reply-schema';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { type ReadCache, RUNNER_LIST_CACHE } from './read-cache';
import { bodyObject, queryNumber, queryString } from './request-input';
import { RunnerLivenessEnricher } from './runner-liveness.enricher';
import { RunnerManagerClient } from './runner-manager.client';

const listReads = counter({
  name: 'stratavore_gateway_runner_list_reads_total',
  help: 'Runner list pages answered, by how: hit (cache), shared (a read in flight), miss (read from the services and stored), bypass (cache off or not hearing changes).',
  labelNames: ['outcome'],
});

/** `GET runners/:id/logs` query: the HTTP names of the contract's fields (`limit` is in bytes). */
const runnerLogsQuerySchema = z.strictObject({
  offset: runnerLogsRequestSchema.shape.offset,
  limit: runnerLogsRequestSchema.shape.limitBytes,
  tail: runnerLogsRequestSchema.shape.tail,
});

@GatewayRoutes()
@Controller('api/v1')
export class RunnersController {
  constructor(
    @Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient,
    @Inject(RunnerLivenessEnricher) private readonly liveness: RunnerLivenessEnricher,
    @Inject(RUNNER_LIST_CACHE) private readonly listCache: ReadCache<RunnerListReply>,
  ) {}

  /** 201 with the runner, or 202 with the queue entry when the project was full and `queue`. */
  @Post('projects/:name/runners')
  @RequiredScope('operator')
  async launch(
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: GatewayReply,
  ): Promise<LaunchRunnerReply> {
    const payload = parseAtEdge(launchRunnerRequestSchema, {
      ...bodyObject(body, { optional: true }),
      project: name,
    });
    const result = await this.runnerManager.request('runners.launch', payload);
    reply.status(result.status === 'queued' ? 202 : 201);
    return result;
  }

  /**
   * `?project=<name>&state=running,pending&limit=50&cursor=<nextCursor>`: a page of runners
   * (default 50), newest first, with liveness from heartbeat-ingest merged and the next page's
   * `nextCursor` (`null` on the last page). Pages come from the gateway's runner list cache
   * when fresh enough ({@link ReadCache}); `Cache-Control: no-cache` reads anew.
   */
  @Get('runners')
  @RequiredScope('viewer')
  @SerializeReply(runnerListReplySchema)
  async list(
    @Query() query: Record<string, unknown>,
    @Headers('cache-control') cacheControl?: string,
  ): Promise<RunnerListReply> {
    const { project, state, limit, cursor, ...rest } = query;
    const states = queryString(state);
    const payload = parseAtEdge(
      listRunnersRequestSchema,
      {
        ...rest,
        ...(project === undefined ? {} : { project: queryString(project) }),
        ...(states === undefined ? {} : { states: states.split(',').map((s) => s.trim()) }),
        ...(limit === undefined ? {} : { limit: queryNumber(limit) }),
        ...(cursor === undefined ? {} : { cursor: queryString(cursor) }),
      },
      'query',
    );
    const { value, outcome } = await this.listCache.read(
      JSON.stringify(payload),
      async () => {
        const { runners, nextCursor } = await this.runnerManager.request('runners.list', payload);
        return {
          runners: await this.liveness.enrich(runners),
          ...(nextCursor === undefined ? {} : { nextCursor }),
        };
      },
      { fresh: cacheControl !== undefined && /\bno-cache\b/i.test(cacheControl) },
    );
    listReads.inc({ outcome });
    return value;
  }

  /** The runner with liveness from heartbeat-ingest merged (both asked for at once). */
  @Get('runners/:id')
  @RequiredScope('viewer')
  @SerializeReply(runnerReplySchema)
  get(@Param('id') id: string): Promise<RunnerReply> {
    const payload = parseAtEdge(getRunnerRequestSchema, { runner: id }, 'path');
    return this.liveness.enrichPending(
      payload.runner,
      this.runnerManager.request('runners.get', payload),
    );
  }

  /**
   * A window of the runner's log (`?offset=&limit=&tail=`): whole UTF-8 characters from byte
   * `offset`, or from the last `tail` lines; a follower reads on from `nextOffset` until `ended`.
   */
  @Get('runners/:id/logs')
  @RequiredScope('viewer')
  logs(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<RunnerLogsReply> {
    const { offset, limit, tail, ...rest } = query;
    const read = parseAtEdge(
      runnerLogsQuerySchema,
      {
        ...rest,
        ...(offset === undefined ? {} : { offset: queryNumber(offset) }),
        ...(limit === undefined ? {} : { limit: queryNumber(limit) }),
        ...(tail === undefined ? {} : { tail: queryNumber(tail) }),
      },
      'query',
    );
    const payload = parseAtEdge(runnerLogsRequestSchema, {
      runner: id,
      offset: read.offset,
      limitBytes: read.limit,
      ...(read.tail === undefined ? {} : { tail: read.tail }),
    });
    return this.runnerManager.request('runners.logs', payload);
  }

  /** `{ force: true }` kills (SIGKILL) instead of stopping (SIGTERM); liveness merged. */
  @Post('runners/:id/stop')
  @HttpCode(202)
  @RequiredScope('operator')
  async stop(@Param('id') id: string, @Body() body: unknown): Promise<RunnerReply> {
    const payload = parseAtEdge(stopRunnerRequestSchema, {
      ...bodyObject(body, { optional: true }),
      runner: id,
    });
    return this.liveness.enrichOne(await this.runnerManager.request('runners.stop', payload));
  }

  /** Cancels a queued launch (`:id` is the queue entry's id). */
  @Delete('runners/:id/queue')
  @HttpCode(200)
  @RequiredScope('operator')
  cancelQueued(@Param('id') id: string): Promise<CancelQueuedReply> {
    const payload = parseAtEdge(cancelQueuedRequestSchema, { queuedLaunch: id }, 'path');
    return this.runnerManager.request('runners.cancel-queued', payload);
  }
}
