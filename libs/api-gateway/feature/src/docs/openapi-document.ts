import { DocumentBuilder, type OpenAPIObject } from '@nestjs/swagger';
import { type ApiKeyScope } from '@stratavore/api-gateway-data-access';
import {
  cancelQueuedReplySchema,
  createProjectRequestSchema,
  launchRunnerReplySchema,
  launchRunnerRequestSchema,
  projectListReplySchema,
  projectReplySchema,
  RUNNER_LIST_DEFAULT_LIMIT,
  RUNNER_LIST_MAX_LIMIT,
  RUNNER_LOG_DEFAULT_LIMIT_BYTES,
  RUNNER_LOG_MAX_LIMIT_BYTES,
  RUNNER_LOG_MAX_TAIL_LINES,
  runnerListReplySchema,
  runnerLogsReplySchema,
  runnerReplySchema,
  runnersStatusReplySchema,
  runnerStateSchema,
  stopRunnerRequestSchema,
  updateProjectRequestSchema,
} from '@stratavore/contracts';
import { z } from 'zod';

import { createApiKeyRequestSchema } from '../keys/api-keys.controller';
import { budgetRouteDocs } from './budget-route-docs';
import { runnerAttachRouteDocs } from './runner-attach-route-docs';
import { sessionResumeRouteDocs } from './session-resume-route-docs';
import { sessionRouteDocs } from './session-route-docs';
import { worktreeRouteDocs } from './worktree-route-docs';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const errorBody = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  message: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  requestId: z.string(),
});

const apiKeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scope: z.enum(['viewer', 'operator', 'admin']),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const health = z.object({ status: z.enum(['up', 'down']), error: z.string().optional() });
const statusReply = z.object({
  runners: z
    .object({
      active: z.number().int(),
      queued: z.number().int(),
      byState: z.object({
        pending: z.number().int(),
        starting: z.number().int(),
        running: z.number().int(),
        stopping: z.number().int(),
      }),
    })
    .nullable(),
  projects: runnersStatusReplySchema.shape.projects.nullable(),
  services: z.object({ gateway: health, database: health, bus: health, runnerManager: health }),
});

// The request bodies as clients send them: the path parameter is not part of the body.
const updateProjectBody = updateProjectRequestSchema.omit({ project: true });
const launchRunnerBody = launchRunnerRequestSchema.omit({ project: true });
const stopRunnerBody = stopRunnerRequestSchema.omit({ runner: true });

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly description: string;
  readonly schema: JsonSchema;
}

export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly scope: ApiKeyScope;
  readonly parameters?: readonly Parameter[];
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  readonly produces?: string;
}

const projectName: Parameter = {
  name: 'name',
  in: 'path',
  description: 'Project name (or id)',
  schema: { type: 'string' },
};
const runnerId: Parameter = {
  name: 'id',
  in: 'path',
  description: 'Runner id',
  schema: { type: 'string', format: 'uuid' },
};

/** Every route of the gateway, as documented. */
export const gatewayRouteDocs: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/v1/projects',
    tag: 'projects',
    summary: 'Create a project',
    scope: 'operator',
    body: createProjectRequestSchema,
    responses: { 201: { description: 'Created', schema: projectReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/projects',
    tag: 'projects',
    summary: 'List projects',
    scope: 'viewer',
    parameters: [
      {
        name: 'includeArchived',
        in: 'query',
        description: 'Include archived projects',
        schema: { type: 'boolean' },
      },
    ],
    responses: { 200: { description: 'Projects', schema: projectListReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/projects/{name}',
    tag: 'projects',
    summary: 'Get a project',
    scope: 'viewer',
    parameters: [projectName],
    responses: { 200: { description: 'The project', schema: projectReplySchema } },
  },
  {
    method: 'patch',
    path: '/api/v1/projects/{name}',
    tag: 'projects',
    summary: 'Update a project (env replaces the whole list)',
    scope: 'operator',
    parameters: [projectName],
    body: updateProjectBody,
    responses: { 200: { description: 'The updated project', schema: projectReplySchema } },
  },
  {
    method: 'post',
    path: '/api/v1/projects/{name}/archive',
    tag: 'projects',
    summary: 'Archive a project',
    scope: 'operator',
    parameters: [projectName],
    responses: { 200: { description: 'The archived project', schema: projectReplySchema } },
  },
  {
    method: 'post',
    path: '/api/v1/projects/{name}/runners',
    tag: 'runners',
    summary: 'Launch a runner',
    scope: 'operator',
    parameters: [projectName],
    body: launchRunnerBody,
    responses: {
      201: { description: 'Launched', schema: launchRunnerReplySchema },
      202: { description: 'Queued (project full, queue: true)', schema: launchRunnerReplySchema },
    },
  },
  {
    method: 'get',
    path: '/api/v1/runners',
    tag: 'runners',
    summary: 'List runners',
    scope: 'viewer',
    parameters: [
      {
        name: 'project',
        in: 'query',
        description: 'Project name or id',
        schema: { type: 'string' },
      },
      {
        name: 'state',
        in: 'query',
        description: 'Comma-separated states',
        schema: { type: 'string', example: runnerStateSchema.options.slice(0, 3).join(',') },
      },
      {
        name: 'limit',
        in: 'query',
        description: `Runners in the page, 1..${RUNNER_LIST_MAX_LIMIT}, default ${RUNNER_LIST_DEFAULT_LIMIT}`,
        schema: { type: 'integer' },
      },
      {
        name: 'cursor',
        in: 'query',
        description: "The previous page's nextCursor: the page that follows it (same filters)",
        schema: { type: 'string', format: 'uuid' },
      },
    ],
    responses: {
      200: {
        description: 'A page of runners, newest first; nextCursor is null on the last page',
        schema: runnerListReplySchema,
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/runners/{id}',
    tag: 'runners',
    summary: 'Get a runner',
    scope: 'viewer',
    parameters: [runnerId],
    responses: { 200: { description: 'The runner', schema: runnerReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/runners/{id}/logs',
    tag: 'runners',
    summary:
      "A window of the runner's log (its command's stdout and stderr): whole UTF-8 characters; follow by reading on from nextOffset until ended",
    scope: 'viewer',
    parameters: [
      runnerId,
      {
        name: 'offset',
        in: 'query',
        description: 'Byte offset to read from, default 0 (a follower passes nextOffset)',
        schema: { type: 'integer', minimum: 0 },
      },
      {
        name: 'limit',
        in: 'query',
        description: `Bytes to read at most, 1..${RUNNER_LOG_MAX_LIMIT_BYTES}, default ${RUNNER_LOG_DEFAULT_LIMIT_BYTES}`,
        schema: { type: 'integer', minimum: 1, maximum: RUNNER_LOG_MAX_LIMIT_BYTES },
      },
      {
        name: 'tail',
        in: 'query',
        description: `First read only: start at the last N lines (0..${RUNNER_LOG_MAX_TAIL_LINES}) instead of at offset`,
        schema: { type: 'integer', minimum: 0, maximum: RUNNER_LOG_MAX_TAIL_LINES },
      },
    ],
    responses: {
      200: { description: 'The window of the log', schema: runnerLogsReplySchema },
      404: {
        description:
          'Unknown runner (RUNNER_NOT_FOUND), or its log is on a host this runner-manager cannot read (RUNNER_LOG_UNAVAILABLE)',
        schema: errorBody,
      },
    },
  },
  {
    method: 'post',
    path: '/api/v1/runners/{id}/stop',
    tag: 'runners',
    summary: 'Stop a runner (force: kill)',
    scope: 'operator',
    parameters: [runnerId],
    body: stopRunnerBody,
    responses: { 202: { description: 'Stop requested', schema: runnerReplySchema } },
  },
  {
    method: 'delete',
    path: '/api/v1/runners/{id}/queue',
    tag: 'runners',
    summary: 'Cancel a queued launch (id of the queue entry)',
    scope: 'operator',
    parameters: [{ ...runnerId, description: 'Queued launch id' }],
    responses: { 200: { description: 'Cancelled', schema: cancelQueuedReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/status',
    tag: 'status',
    summary: 'Runner counts by state and service health',
    scope: 'viewer',
    responses: { 200: { description: 'Status', schema: statusReply } },
  },
  {
    method: 'get',
    path: '/api/v1/events',
    tag: 'events',
    summary: 'Server-sent events (event: <type>, data: <json>), keep-alive every 15 s',
    scope: 'viewer',
    parameters: [
      {
        name: 'types',
        in: 'query',
        description: 'Comma-separated event types or topic patterns (runner.*), default all',
        schema: { type: 'string' },
      },
    ],
    produces: 'text/event-stream',
    responses: { 200: { description: 'The event stream' } },
  },
  {
    method: 'post',
    path: '/api/v1/keys',
    tag: 'keys',
    summary: 'Create an API key (the plaintext key is returned once)',
    scope: 'admin',
    body: createApiKeyRequestSchema,
    responses: {
      201: {
        description: 'Created',
        schema: z.object({ key: z.string(), apiKey: apiKeyView }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/keys',
    tag: 'keys',
    summary: 'List API keys',
    scope: 'admin',
    responses: { 200: { description: 'Keys', schema: z.object({ keys: z.array(apiKeyView) }) } },
  },
  {
    method: 'delete',
    path: '/api/v1/keys/{id}',
    tag: 'keys',
    summary: 'Revoke an API key',
    scope: 'admin',
    parameters: [{ ...runnerId, description: 'API key id' }],
    responses: { 200: { description: 'Revoked', schema: z.object({ apiKey: apiKeyView }) } },
  },
  ...budgetRouteDocs,
  ...runnerAttachRouteDocs,
  ...sessionResumeRouteDocs,
  ...sessionRouteDocs,
  ...worktreeRouteDocs,
];

const ERROR_RESPONSES: Readonly<Record<number, string>> = {
  400: 'Invalid input; `errors` names the fields',
  401: 'Missing, unknown or revoked API key',
  403: 'The key scope does not allow this',
  429: 'Rate limited; see Retry-After',
};

/** The OpenAPI 3 document of the gateway, built from the zod contracts. */
export function buildGatewayOpenApiDocument(): OpenAPIObject {
  const document = new DocumentBuilder()
    .setTitle('Stratavore API')
    .setDescription(
      'Control plane for fleets of AI coding agents. Every route needs `Authorization: Bearer <API key>`; viewer keys read, operator keys also launch, stop and edit projects, admin keys also manage keys. Errors: `{ statusCode, code, message, errors?, requestId }`.',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'sv_<prefix>_<secret>' },
      'apiKey',
    )
    .build();
  const errorSchema = schemaOf(errorBody, 'output');
  const paths: OpenAPIObject['paths'] = {};
  for (const route of gatewayRouteDocs) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { 'application/json': { schema: schemaOf(response.schema, 'output') } } }
          : route.produces
            ? { content: { [route.produces]: { schema: { type: 'string' } } } }
            : {}),
      };
    }
    for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
      responses[status] = {
        description,
        content: { 'application/json': { schema: errorSchema } },
      };
    }
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        tags: [route.tag],
        summary: route.summary,
        description: `Needs the \`${route.scope}\` scope.`,
        operationId: `${route.method}_${route.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
        security: [{ apiKey: [] }],
        parameters: route.parameters ?? [],
        ...(route.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return { ...document, paths };
}
