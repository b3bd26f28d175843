import { Controller, Delete, Get, HttpCode, Inject, Param, Query } from '@nestjs/common';
import {
  listWorktreesRequestSchema,
  type RemoveWorktreeReply,
  removeWorktreeRequestSchema,
  type WorktreeListReply,
} from '@stratavore/contracts';

import { parseAtEdge } from '../http/edge-validation';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { queryBoolean, queryString } from './request-input';
import { RunnerManagerClient } from './runner-manager.client';

/**
 * The git worktrees of runners launched with `worktree: true` (docs/worktrees.md): listed with
 * their runner's state and git status, removed with their branch.
 */
@GatewayRoutes()
@Controller('api/v1')
export class WorktreesController {
  constructor(@Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient) {}

  /** `?project=<name>&includeRemoved=true`. */
  @Get('worktrees')
  @RequiredScope('viewer')
  list(@Query() query: Record<string, unknown>): Promise<WorktreeListReply> {
    const { project, includeRemoved, ...rest } = query;
    const payload = parseAtEdge(
      listWorktreesRequestSchema,
      {
        ...rest,
        ...(project === undefined ? {} : { project: queryString(project) }),
        ...(includeRemoved === undefined ? {} : { includeRemoved: queryBoolean(includeRemoved) }),
      },
      'query',
    );
    return this.runnerManager.request('worktrees.list', payload);
  }

  /**
   * Removes the worktree made for runner `:id` and its branch; `?force=true` also when it has
   * uncommitted changes or commits the project's HEAD does not have.
   */
  @Delete('worktrees/:id')
  @HttpCode(200)
  @RequiredScope('operator')
  remove(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<RemoveWorktreeReply> {
    const { force, ...rest } = query;
    const payload = parseAtEdge(
      removeWorktreeRequestSchema,
      { ...rest, runner: id, ...(force === undefined ? {} : { force: queryBoolean(force) }) },
      'query',
    );
    return this.runnerManager.request('worktrees.remove', payload);
  }
}
