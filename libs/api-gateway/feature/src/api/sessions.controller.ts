import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import {
  getSessionRequestSchema,
  listSessionsRequestSchema,
  runnersStatsRequestSchema,
  type RunnersStatsView,
  type SessionDetailView,
  type SessionListView,
  transcriptKindRefSchema,
  type TranscriptWindowReply,
  transcriptWindowRequestSchema,
  usageByRequestSchema,
  type UsageView,
} from '@stratavore/contracts';
import { z } from 'zod';

import { parseAtEdge } from '../http/edge-validation';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { ProjectNames } from './project-names';
import { queryNumber, queryString } from './request-input';
import { SessionStoreClient } from './session-store.client';

const projectRef = z.string().min(1, { error: 'expected a project name or id' });

/** `GET sessions` query. */
const listQuerySchema = z.strictObject({
  project: projectRef.optional(),
  runner: listSessionsRequestSchema.shape.runner,
  since: listSessionsRequestSchema.shape.since,
  limit: listSessionsRequestSchema.shape.limit,
});

/** `GET sessions/:id/transcript` query: `kind` in one word, `limit` in bytes. */
const transcriptQuerySchema = z.strictObject({
  kind: transcriptKindRefSchema.prefault('main'),
  offset: transcriptWindowRequestSchema.shape.offset,
  limit: transcriptWindowRequestSchema.shape.limitBytes,
});

const rangeQuery = {
  from: usageByRequestSchema.shape.from,
  to: usageByRequestSchema.shape.to,
  project: projectRef.optional(),
};

const usageQuerySchema = z.strictObject({ by: usageByRequestSchema.shape.by, ...rangeQuery });
const statsQuerySchema = z.strictObject(rangeQuery);

/** Query values as the schemas expect them: single strings, numbers where they look like one. */
function queryInput(
  query: Record<string, unknown>,
  numeric: readonly string[] = [],
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(query).map(([name, value]) => [
      name,
      numeric.includes(name) ? queryNumber(value) : queryString(value),
    ]),
  );
}

/**
 * Sessions, transcripts and statistics from session-store (docs/sessions.md), with project names
 * from runner-manager. Read-only: every route needs the `viewer` scope.
 */
@GatewayRoutes()
@Controller('api/v1')
export class SessionsController {
  constructor(
    @Inject(SessionStoreClient) private readonly sessionStore: SessionStoreClient,
    @Inject(ProjectNames) private readonly projects: ProjectNames,
  ) {}

  /** `?project=<name|id>&runner=<id>&since=<ISO time>&limit=50`; newest activity first. */
  @Get('sessions')
  @RequiredScope('viewer')
  async list(@Query() query: Record<string, unknown>): Promise<SessionListView> {
    const input = parseAtEdge(listQuerySchema, queryInput(query, ['limit']), 'query');
    const payload = parseAtEdge(listSessionsRequestSchema, {
      ...input,
      project: input.project === undefined ? undefined : await this.projects.resolve(input.project),
    });
    const [{ sessions }, names] = await Promise.all([
      this.sessionStore.request('sessions.list', payload),
      this.projects.all(),
    ]);
    return {
      sessions: sessions.map((s) => ({ ...s, project: ProjectNames.view(s.projectId, names) })),
    };
  }

  /** The session with its runs, tokens by model and kind, cost, result and transcripts. */
  @Get('sessions/:id')
  @RequiredScope('viewer')
  async get(@Param('id') id: string): Promise<SessionDetailView> {
    const payload = parseAtEdge(getSessionRequestSchema, { session: id }, 'path');
    const session = await this.sessionStore.request('sessions.get', payload);
    const name = await this.projects.one(session.projectId);
    return { ...session, project: { id: session.projectId, name } };
  }

  /**
   * A window of a stored transcript (`?kind=main|subagent-<agentId>&offset=&limit=`): whole
   * UTF-8 characters of the JSONL; read on from `nextOffset` until `eof`.
   */
  @Get('sessions/:id/transcript')
  @RequiredScope('viewer')
  transcript(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<TranscriptWindowReply> {
    const input = parseAtEdge(
      transcriptQuerySchema,
      queryInput(query, ['offset', 'limit']),
      'query',
    );
    const payload = parseAtEdge(transcriptWindowRequestSchema, {
      session: id,
      kind: input.kind.kind,
      agentId: input.kind.agentId,
      offset: input.offset,
      limitBytes: input.limit,
    });
    return this.sessionStore.request('sessions.transcript', payload);
  }

  /** `?by=project|model|day&from=YYYY-MM-DD&to=YYYY-MM-DD&project=`: tokens by kind and cost. */
  @Get('usage')
  @RequiredScope('viewer')
  async usage(@Query() query: Record<string, unknown>): Promise<UsageView> {
    const input = parseAtEdge(usageQuerySchema, queryInput(query), 'query');
    const payload = parseAtEdge(usageByRequestSchema, {
      ...input,
      project: input.project === undefined ? undefined : await this.projects.resolve(input.project),
    });
    const [reply, names] = await Promise.all([
      this.sessionStore.request('usage.by', payload),
      payload.by === 'project' ? this.projects.all() : Promise.resolve(new Map<string, string>()),
    ]);
    return {
      ...reply,
      rows: reply.rows.map((row) => ({
        ...row,
        name: payload.by === 'project' ? (names.get(row.key) ?? null) : null,
      })),
    };
  }

  /** `?from=&to=&project=`: success rate and durations of runners launched in the range. */
  @Get('stats/runners')
  @RequiredScope('viewer')
  async runnerStats(@Query() query: Record<string, unknown>): Promise<RunnersStatsView> {
    const input = parseAtEdge(statsQuerySchema, queryInput(query), 'query');
    const payload = parseAtEdge(runnersStatsRequestSchema, {
      ...input,
      project: input.project === undefined ? undefined : await this.projects.resolve(input.project),
    });
    const [reply, names] = await Promise.all([
      this.sessionStore.request('runners.stats', payload),
      this.projects.all(),
    ]);
    return {
      ...reply,
      projects: reply.projects.map(({ projectId, ...outcomes }) => ({
        ...outcomes,
        project: ProjectNames.view(projectId, names),
      })),
    };
  }
}
