import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import {
  archiveProjectRequestSchema,
  createProjectRequestSchema,
  getProjectRequestSchema,
  listProjectsRequestSchema,
  type ProjectListReply,
  type ProjectReply,
  updateProjectRequestSchema,
} from '@stratavore/contracts';

import { parseAtEdge } from '../http/edge-validation';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { bodyObject, queryBoolean } from './request-input';
import { RunnerManagerClient } from './runner-manager.client';

@GatewayRoutes()
@Controller('api/v1/projects')
export class ProjectsController {
  constructor(@Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient) {}

  @Post()
  @HttpCode(201)
  @RequiredScope('operator')
  create(@Body() body: unknown): Promise<ProjectReply> {
    const payload = parseAtEdge(createProjectRequestSchema, bodyObject(body));
    return this.runnerManager.request('projects.create', payload);
  }

  @Get()
  @RequiredScope('viewer')
  list(@Query() query: Record<string, unknown>): Promise<ProjectListReply> {
    const { includeArchived, ...rest } = query;
    const payload = parseAtEdge(
      listProjectsRequestSchema,
      {
        ...rest,
        ...(includeArchived === undefined
          ? {}
          : { includeArchived: queryBoolean(includeArchived) }),
      },
      'query',
    );
    return this.runnerManager.request('projects.list', payload);
  }

  @Get(':name')
  @RequiredScope('viewer')
  get(@Param('name') name: string): Promise<ProjectReply> {
    const payload = parseAtEdge(getProjectRequestSchema, { project: name }, 'path');
    return this.runnerManager.request('projects.get', payload);
  }

  @Patch(':name')
  @RequiredScope('operator')
  update(@Param('name') name: string, @Body() body: unknown): Promise<ProjectReply> {
    const payload = parseAtEdge(updateProjectRequestSchema, {
      ...bodyObject(body),
      project: name,
    });
    return this.runnerManager.request('projects.update', payload);
  }

  @Post(':name/archive')
  @HttpCode(200)
  @RequiredScope('operator')
  archive(@Param('name') name: string): Promise<ProjectReply> {
    const payload = parseAtEdge(archiveProjectRequestSchema, { project: name }, 'path');
    return this.runnerManager.request('projects.archive', payload);
  }
}
