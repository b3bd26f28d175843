import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { type AttachRunnerReply, attachRunnerRequestSchema } from '@stratavore/contracts';

import { parseAtEdge } from '../http/edge-validation';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { bodyObject } from './request-input';
import { RunnerManagerClient } from './runner-manager.client';

/**
 * `POST /api/v1/projects/:name/runners/attach` (`stratavore run`): registers a runner whose
 * agent the caller starts in the user's terminal (runner-manager's `runners.attach`). Admitted
 * like a launch (budgets, quota; never queued); the answer carries the runner token, shown this
 * once, and the heartbeat URL for that agent (docs/runners.md, "Attached runners").
 */
@GatewayRoutes()
@Controller('api/v1')
export class RunnerAttachController {
  constructor(@Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient) {}

  @Post('projects/:name/runners/attach')
  @HttpCode(201)
  @RequiredScope('operator')
  attach(@Param('name') name: string, @Body() body: unknown): Promise<AttachRunnerReply> {
    const payload = parseAtEdge(attachRunnerRequestSchema, {
      ...bodyObject(body),
      project: name,
    });
    return this.runnerManager.request('runners.attach', payload);
  }
}
