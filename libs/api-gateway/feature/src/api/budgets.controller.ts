import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import {
  type BudgetListReply,
  type BudgetScope,
  type BudgetView,
  type CheckBudgetReply,
  checkBudgetReplySchema,
  estimateTokensSchema,
  estimateUsdSchema,
  getBudgetRequestSchema,
  projectRefSchema,
  type ProjectReply,
  type RemoveBudgetReply,
  removeBudgetRequestSchema,
  type SetBudgetReply,
  setBudgetRequestSchema,
  type UsageSummaryReply,
  usageSummaryRequestSchema,
} from '@stratavore/contracts';
import { counter } from '@stratavore/observability';
import { z } from 'zod';

import { parseAtEdge } from '../http/edge-validation';
import { SerializeReply } from '../http/reply-schema';
import { RequiredScope } from '../keys/api-scope';
import { BudgetServiceClient } from './budget-service.client';
import { GatewayRoutes } from './gateway-routes.decorator';
import { PROJECT_CACHE, type ReadCache } from './read-cache';
import { bodyObject, queryNumber, queryString } from './request-input';
import { RunnerManagerClient } from './runner-manager.client';

/** A budget's scope over HTTP: the project by name or id (resolved through runner-manager). */
export const budgetScopeInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('global') }),
    z.strictObject({ kind: z.literal('project'), project: projectRefSchema }),
  ],
  {
    error:
      'expected a scope: { "kind": "global" } or { "kind": "project", "project": "<name or id>" }',
  },
);

/** `PUT /api/v1/budgets`: `budgets.set` with the project of a project scope by name or id. */
export const setBudgetBodySchema = z
  .strictObject({ ...setBudgetRequestSchema.shape, scope: budgetScopeInputSchema })
  .refine((body) => body.limitTokens !== undefined || body.limitUsd !== undefined, {
    error: 'expected limitTokens, limitUsd or both',
    path: ['limitTokens'],
  });

/**
 * `POST /api/v1/budgets/check`: would a launch in `project` be admitted now? The estimate is the
 * launch's: these overrides, else the project's default launch estimate, else 0.
 */
export const checkBudgetBodySchema = z.strictObject({
  project: projectRefSchema,
  estimateTokens: estimateTokensSchema.optional(),
  estimateUsd: estimateUsdSchema.optional(),
});

/** `DELETE /api/v1/budgets?scope=global` or `?project=<name or id>`: exactly one. */
const removeByScopeQuerySchema = z
  .strictObject({
    scope: z.literal('global', { error: 'expected global (or give project instead)' }).optional(),
    project: projectRefSchema.optional(),
  })
  .refine((query) => (query.scope === undefined) !== (query.project === undefined), {
    error: 'expected either scope=global or project=<name or id>',
    path: ['scope'],
  });

const projectLookups = counter({
  name: 'stratavore_gateway_project_lookups_total',
  help: "Projects budget checks looked up, by how: hit (the gateway's project cache), shared (a lookup in flight), miss (asked runner-manager and stored), bypass (cache off).",
  labelNames: ['outcome'],
});

const listQuerySchema = z.strictObject({ project: projectRefSchema.optional() });

const usageQuerySchema = z.strictObject({
  project: projectRefSchema.optional(),
  from: usageSummaryRequestSchema.shape.from,
  to: usageSummaryRequestSchema.shape.to,
  days: usageSummaryRequestSchema.shape.days,
  timeZone: usageSummaryRequestSchema.shape.timeZone,
});

/**
 * Budgets (docs/budgets.md): reads need the `viewer` scope (the check too: it changes nothing),
 * writes the `admin` scope. Projects are named by name or id and resolved through
 * runner-manager; everything else is budget-service's, validated with its contracts.
 */
@GatewayRoutes()
@Controller('api/v1/budgets')
export class BudgetsController {
  constructor(
    @Inject(BudgetServiceClient) private readonly budgets: BudgetServiceClient,
    @Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient,
    @Inject(PROJECT_CACHE) private readonly projectCache: ReadCache<ProjectReply>,
  ) {}

  /** Every budget with its current period, or `?project=` the budgets covering that project. */
  @Get()
  @RequiredScope('viewer')
  async list(@Query() query: Record<string, unknown>): Promise<BudgetListReply> {
    const { project, ...rest } = query;
    const parsed = parseAtEdge(
      listQuerySchema,
      { ...rest, ...(project === undefined ? {} : { project: queryString(project) }) },
      'query',
    );
    const projectId =
      parsed.project === undefined ? undefined : (await this.project(parsed.project)).id;
    return this.budgets.request('budgets.list', projectId === undefined ? {} : { projectId });
  }

  /** Creates the scope's budget or replaces its whole configuration. */
  @Put()
  @HttpCode(200)
  @RequiredScope('admin')
  async set(@Body() body: unknown): Promise<SetBudgetReply> {
    const parsed = parseAtEdge(setBudgetBodySchema, bodyObject(body));
    const payload = parseAtEdge(setBudgetRequestSchema, {
      ...parsed,
      scope: await this.scope(parsed.scope),
    });
    return this.budgets.request('budgets.set', payload);
  }

  /** Consumption per budget (current periods) and per project and day. */
  @Get('usage')
  @RequiredScope('viewer')
  async usage(@Query() query: Record<string, unknown>): Promise<UsageSummaryReply> {
    const { project, from, to, days, timeZone, ...rest } = query;
    const parsed = parseAtEdge(
      usageQuerySchema,
      {
        ...rest,
        ...(project === undefined ? {} : { project: queryString(project) }),
        ...(from === undefined ? {} : { from: queryString(from) }),
        ...(to === undefined ? {} : { to: queryString(to) }),
        ...(days === undefined ? {} : { days: queryNumber(days) }),
        ...(timeZone === undefined ? {} : { timeZone: queryString(timeZone) }),
      },
      'query',
    );
    const { project: ref, ...window } = parsed;
    const payload = parseAtEdge(
      usageSummaryRequestSchema,
      { ...window, ...(ref === undefined ? {} : { projectId: (await this.project(ref)).id }) },
      'query',
    );
    return this.budgets.request('usage.summary', payload);
  }

  /**
   * Would a launch be admitted now, and what would it overrun? Changes nothing. The project (its
   * id and default estimate) comes from the gateway's project cache (`API_PROJECT_CACHE_TTL`):
   * checks are asked for often and projects change seldom; the launch itself reads it anew.
   */
  @Post('check')
  @HttpCode(200)
  @RequiredScope('viewer')
  @SerializeReply(checkBudgetReplySchema)
  async check(@Body() body: unknown): Promise<CheckBudgetReply> {
    const parsed = parseAtEdge(checkBudgetBodySchema, bodyObject(body));
    const { value: project, outcome } = await this.projectCache.read(parsed.project, () =>
      this.project(parsed.project),
    );
    projectLookups.inc({ outcome });
    return this.budgets.request('budgets.check', {
      projectId: project.id,
      projectName: project.name,
      estimate: {
        tokens: parsed.estimateTokens ?? project.estimateTokens ?? 0,
        usd: parsed.estimateUsd ?? project.estimateUsd ?? 0,
      },
    });
  }

  @Get(':id')
  @RequiredScope('viewer')
  get(@Param('id') id: string): Promise<BudgetView> {
    const payload = parseAtEdge(getBudgetRequestSchema, { budgetId: id }, 'path');
    return this.budgets.request('budgets.get', payload);
  }

  /** Removes a budget by scope: `?scope=global` or `?project=<name or id>`. */
  @Delete()
  @HttpCode(200)
  @RequiredScope('admin')
  async removeByScope(@Query() query: Record<string, unknown>): Promise<RemoveBudgetReply> {
    const { scope, project, ...rest } = query;
    const parsed = parseAtEdge(
      removeByScopeQuerySchema,
      {
        ...rest,
        ...(scope === undefined ? {} : { scope: queryString(scope) }),
        ...(project === undefined ? {} : { project: queryString(project) }),
      },
      'query',
    );
    const target: BudgetScope =
      parsed.project === undefined
        ? { kind: 'global' }
        : { kind: 'project', projectId: (await this.project(parsed.project)).id };
    return this.budgets.request(
      'budgets.remove',
      parseAtEdge(removeBudgetRequestSchema, { scope: target }),
    );
  }

  @Delete(':id')
  @HttpCode(200)
  @RequiredScope('admin')
  remove(@Param('id') id: string): Promise<RemoveBudgetReply> {
    const payload = parseAtEdge(removeBudgetRequestSchema, { budgetId: id }, 'path');
    return this.budgets.request('budgets.remove', payload);
  }

  private project(ref: string): Promise<ProjectReply> {
    return this.runnerManager.request('projects.get', { project: ref });
  }

  private async scope(input: z.output<typeof budgetScopeInputSchema>): Promise<BudgetScope> {
    if (input.kind === 'global') return { kind: 'global' };
    return { kind: 'project', projectId: (await this.project(input.project)).id };
  }
}
