import {
  runnersStatsViewSchema,
  sessionDetailViewSchema,
  sessionListViewSchema,
  SESSIONS_DEFAULT_LIMIT,
  SESSIONS_MAX_LIMIT,
  STATS_DEFAULT_RANGE_DAYS,
  TRANSCRIPT_DEFAULT_LIMIT_BYTES,
  TRANSCRIPT_MAX_LIMIT_BYTES,
  transcriptWindowReplySchema,
  usageGroupings,
  usageViewSchema,
} from '@stratavore/contracts';

import { type Parameter, type RouteDoc } from './openapi-document';

const sessionId: Parameter = {
  name: 'id',
  in: 'path',
  description: "Claude Code's session id",
  schema: { type: 'string' },
};

const project: Parameter = {
  name: 'project',
  in: 'query',
  description: 'Only this project (name or id)',
  schema: { type: 'string' },
};

const range: readonly Parameter[] = [
  {
    name: 'from',
    in: 'query',
    description: `First day (UTC, YYYY-MM-DD, included); default: ${STATS_DEFAULT_RANGE_DAYS} days ending with to`,
    schema: { type: 'string', format: 'date' },
  },
  {
    name: 'to',
    in: 'query',
    description: 'Last day (UTC, YYYY-MM-DD, included); default: today',
    schema: { type: 'string', format: 'date' },
  },
  project,
];

const notFound = (what: string) => ({ description: what });

/** The session, usage and statistics routes (docs/sessions.md). */
export const sessionRouteDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/sessions',
    tag: 'sessions',
    summary: 'List Claude Code sessions, newest activity first',
    scope: 'viewer',
    parameters: [
      project,
      {
        name: 'runner',
        in: 'query',
        description: 'Only sessions this runner took part in (runner id)',
        schema: { type: 'string', format: 'uuid' },
      },
      {
        name: 'since',
        in: 'query',
        description: 'Only sessions active at or after this instant (ISO 8601)',
        schema: { type: 'string', format: 'date-time' },
      },
      {
        name: 'limit',
        in: 'query',
        description: `1..${SESSIONS_MAX_LIMIT}, default ${SESSIONS_DEFAULT_LIMIT}`,
        schema: { type: 'integer', minimum: 1, maximum: SESSIONS_MAX_LIMIT },
      },
    ],
    responses: {
      200: { description: 'Sessions', schema: sessionListViewSchema },
      404: notFound('Unknown project (PROJECT_NOT_FOUND)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/{id}',
    tag: 'sessions',
    summary: 'Get a session: tokens by model and kind, cost, turns, result, runs, transcripts',
    scope: 'viewer',
    parameters: [sessionId],
    responses: {
      200: { description: 'The session', schema: sessionDetailViewSchema },
      404: notFound('Unknown session (SESSION_NOT_FOUND)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/{id}/transcript',
    tag: 'sessions',
    summary:
      "A window of the session's stored transcript (JSONL): whole UTF-8 characters; read on from nextOffset until eof",
    scope: 'viewer',
    parameters: [
      sessionId,
      {
        name: 'kind',
        in: 'query',
        description: 'main (default) or subagent-<agentId>',
        schema: { type: 'string', example: 'main' },
      },
      {
        name: 'offset',
        in: 'query',
        description: 'Byte offset to read from, default 0',
        schema: { type: 'integer', minimum: 0 },
      },
      {
        name: 'limit',
        in: 'query',
        description: `Bytes to read at most, 1..${TRANSCRIPT_MAX_LIMIT_BYTES}, default ${TRANSCRIPT_DEFAULT_LIMIT_BYTES}`,
        schema: { type: 'integer', minimum: 1, maximum: TRANSCRIPT_MAX_LIMIT_BYTES },
      },
    ],
    responses: {
      200: { description: 'The window of the transcript', schema: transcriptWindowReplySchema },
      404: notFound(
        'Unknown session (SESSION_NOT_FOUND), or no transcript of this kind uploaded (TRANSCRIPT_NOT_FOUND)',
      ),
    },
  },
  {
    method: 'get',
    path: '/api/v1/usage',
    tag: 'statistics',
    summary: 'Tokens by kind and cost over a range of days, grouped by project, model or day',
    scope: 'viewer',
    parameters: [
      {
        name: 'by',
        in: 'query',
        description: `Grouping: ${usageGroupings.join(', ')}`,
        schema: { type: 'string', enum: [...usageGroupings] },
      },
      ...range,
    ],
    responses: { 200: { description: 'Usage', schema: usageViewSchema } },
  },
  {
    method: 'get',
    path: '/api/v1/stats/runners',
    tag: 'statistics',
    summary: 'Runner outcomes per project: success rate, failure reasons and durations',
    scope: 'viewer',
    parameters: range,
    responses: { 200: { description: 'Runner statistics', schema: runnersStatsViewSchema } },
  },
];
