import { attachRunnerReplySchema, attachRunnerRequestSchema } from '@stratavore/contracts';

import { type RouteDoc } from './openapi-document';

/** `POST /api/v1/projects/{name}/runners/attach` (docs/runners.md, "Attached runners"). */
export const runnerAttachRouteDocs: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/v1/projects/{name}/runners/attach',
    tag: 'runners',
    summary:
      "Register a runner whose agent the caller starts in a terminal (stratavore run): admitted against the project's quota and budgets, never queued; the answer has the runner token (shown once) and the heartbeat URL",
    scope: 'operator',
    parameters: [
      { name: 'name', in: 'path', description: 'project name or id', schema: { type: 'string' } },
    ],
    body: attachRunnerRequestSchema.omit({ project: true }),
    responses: {
      201: { description: 'Registered (state starting)', schema: attachRunnerReplySchema },
    },
  },
];
