import { Body, Controller, Inject, Param, Post, Res } from '@nestjs/common';
import { type LaunchRunnerReply, resumeSessionRequestSchema } from '@stratavore/contracts';

import { parseAtEdge } from '../http/edge-validation';
import { type GatewayReply } from '../http/http-types';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { bodyObject } from './request-input';
import { RunnerManagerClient } from './runner-manager.client';

/**
 * `POST /api/v1/sessions/:id/resume`: a runner on `claude --resume <id> -p ...` in the session's
 * project and working directory (runner-manager's `runners.resume`, which asks session-store for
 * the session). Body: the launch's `prompt` (default `continue`), Claude options, restart
 * policy, `queue`, estimates.
 */
@GatewayRoutes()
@Controller('api/v1')
export class SessionResumeController {
  constructor(@Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient) {}

  /** 201 with the runner, or 202 with the queue entry when the project was full and `queue`. */
  @Post('sessions/:id/resume')
  @RequiredScope('operator')
  async resume(
    @Param('id') id: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: GatewayReply,
  ): Promise<LaunchRunnerReply> {
    const payload = parseAtEdge(resumeSessionRequestSchema, {
      ...bodyObject(body, { optional: true }),
      session: id,
    });
    const result = await this.runnerManager.request('runners.resume', payload);
    reply.status(result.status === 'queued' ? 202 : 201);
    return result;
  }
}
