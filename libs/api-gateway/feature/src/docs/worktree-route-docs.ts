import { removeWorktreeReplySchema, worktreeListReplySchema } from '@stratavore/contracts';

import { type RouteDoc } from './openapi-document';

/** `GET /api/v1/worktrees`, `DELETE /api/v1/worktrees/{id}` (docs/worktrees.md). */
export const worktreeRouteDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/worktrees',
    tag: 'worktrees',
    summary:
      "Git worktrees of runners launched with worktree: true, oldest first: branch, path, base commit, the runner's state, the runners working in it, and git status (uncommitted changes, commits ahead of the base, commits not in the project's HEAD) when on this runner-manager's machine",
    scope: 'viewer',
    parameters: [
      {
        name: 'project',
        in: 'query',
        description: 'Project name or id',
        schema: { type: 'string' },
      },
      {
        name: 'includeRemoved',
        in: 'query',
        description: 'Also the worktrees already removed (default false)',
        schema: { type: 'boolean' },
      },
    ],
    responses: { 200: { description: 'Worktrees', schema: worktreeListReplySchema } },
  },
  {
    method: 'delete',
    path: '/api/v1/worktrees/{id}',
    tag: 'worktrees',
    summary:
      "Remove the worktree made for a runner and delete its branch stratavore/<id>; refused while a runner works in it, and, without force, when it has uncommitted changes or commits the project's HEAD does not have",
    scope: 'operator',
    parameters: [
      {
        name: 'id',
        in: 'path',
        description: 'The id of the runner the worktree was made for',
        schema: { type: 'string', format: 'uuid' },
      },
      {
        name: 'force',
        in: 'query',
        description: 'Remove it even with uncommitted changes or unmerged commits (default false)',
        schema: { type: 'boolean' },
      },
    ],
    responses: {
      200: {
        description: 'Removed (the worktree as it was, with removedAt)',
        schema: removeWorktreeReplySchema,
      },
      404: {
        description:
          'Unknown runner (RUNNER_NOT_FOUND), or no worktree, or already removed (WORKTREE_NOT_FOUND)',
      },
      409: {
        description:
          'A runner works in it (WORKTREE_IN_USE), it has uncommitted changes or unmerged commits (WORKTREE_HAS_CHANGES), or it is on another machine or git failed (WORKTREE_UNAVAILABLE)',
      },
    },
  },
];
