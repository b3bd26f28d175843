import {
  Body,
  Controller,
  Delete,
  Get,
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
  type RunnerReply,
  stopRunnerRequestSchema,
} from '@stratavore/contracts';

import { parseAtEdge } from '../http/edge-validation';
import { type GatewayReply } from '../http/http-types';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { bodyObject, queryNumber, queryString } from './request-input';
import { RunnerLivenessEnricher } from './runner-liveness.enricher';
import { RunnerManagerClient } from './runner-manager.client';

@GatewayRoutes()
@Controller('api/v1')
export class RunnersController {
  constructor(
    @Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient,
    @Inject(RunnerLivenessEnricher) private readonly liveness: RunnerLivenessEnricher,
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

  /** `?project=<name>&state=running,pending&limit=50`; liveness from heartbeat-ingest merged. */
  @Get('runners')
  @RequiredScope('viewer')
  async list(@Query() query: Record<string, unknown>): Promise<RunnerListReply> {
    const { project, state, limit, ...rest } = query;
    const states = queryString(state);
    const payload = parseAtEdge(
      listRunnersRequestSchema,
      {
        ...rest,
        ...(project === undefined ? {} : { project: queryString(project) }),
        ...(states === undefined ? {} : { states: states.split(',').map((s) => s.trim()) }),
        ...(limit === undefined ? {} : { limit: queryNumber(limit) }),
      },
      'query',
    );
    const { runners } = await this.runnerManager.request('runners.list', payload);
    return { runners: await this.liveness.enrich(runners) };
  }

  /** The runner with liveness from heartbeat-ingest merged. */
  @Get('runners/:id')
  @RequiredScope('viewer')
  async get(@Param('id') id: string): Promise<RunnerReply> {
    const payload = parseAtEdge(getRunnerRequestSchema, { runner: id }, 'path');
    return this.liveness.enrichOne(await this.runnerManager.request('runners.get', payload));
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
