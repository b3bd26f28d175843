import { launchRunnerReplySchema, resumeSessionRequestSchema } from '@stratavore/contracts';

import { type RouteDoc } from './openapi-document';

/** `POST /api/v1/sessions/{id}/resume` (docs/claude-code.md, "Launching Claude Code"). */
export const sessionResumeRouteDocs: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/v1/sessions/{id}/resume',
    tag: 'sessions',
    summary:
      "Resume a Claude Code session: a runner on claude --resume <id> -p in the session's project and directory (prompt default: continue)",
    scope: 'operator',
    parameters: [
      {
        name: 'id',
        in: 'path',
        description: "Claude Code's session id",
        schema: { type: 'string' },
      },
    ],
    body: resumeSessionRequestSchema.omit({ session: true }),
    responses: {
      201: { description: 'Launched', schema: launchRunnerReplySchema },
      202: { description: 'Queued (project full, queue: true)', schema: launchRunnerReplySchema },
    },
  },
];
