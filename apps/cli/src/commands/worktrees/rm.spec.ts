import { type WorktreeReply } from '@stratavore/contracts';

import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, PROJECT_ID, RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

const removed: WorktreeReply = {
  runnerId: RUNNER_ID,
  project: { id: PROJECT_ID, name: 'web-app' },
  runnerState: 'completed',
  activeRunners: [],
  path: `/data/worktrees/web-app/${RUNNER_ID}`,
  branch: `stratavore/${RUNNER_ID}`,
  baseCommit: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  repository: '/src/web-app',
  host: 'box',
  createdAt: '2026-11-24T10:00:00.000Z',
  removedAt: '2026-11-24T11:00:00.000Z',
  status: { exists: true, changes: 0, branchExists: true, ahead: 0, unmerged: 0 },
  statusNote: null,
};

describe('stratavore worktrees rm', () => {
  const t = useFakeApi();

  it('removes the worktree and its branch', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/worktrees/${RUNNER_ID}`,
      reply: { removed },
    });

    const result = await runCommand(['worktrees', 'rm', RUNNER_ID], { env: t.env() });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      `Removed the worktree ${removed.path} and its branch stratavore/${RUNNER_ID}.`,
    );
  });

  it('passes --force and prints JSON', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/worktrees/${RUNNER_ID}?force=true`,
      reply: { removed },
    });

    const result = await runCommand(['worktrees', 'rm', RUNNER_ID, '--force', '--json'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(removed);
  });

  it('exits 4 with the reason when the tree has changes or a runner works in it', async () => {
    const message = `the worktree of runner ${RUNNER_ID} has 2 uncommitted changes in ${removed.path}; commit or merge them first, or remove it with --force`;
    t.api().expect(
      {
        method: 'DELETE',
        path: `/api/v1/worktrees/${RUNNER_ID}`,
        status: 409,
        reply: apiError(409, 'WORKTREE_HAS_CHANGES', message),
      },
      {
        method: 'DELETE',
        path: `/api/v1/worktrees/${RUNNER_ID}`,
        status: 409,
        reply: apiError(409, 'WORKTREE_IN_USE', `the worktree of runner ${RUNNER_ID} is in use`),
      },
    );

    const dirty = await runCommand(['worktrees', 'rm', RUNNER_ID], { env: t.env() });
    const busy = await runCommand(['worktrees', 'rm', RUNNER_ID], { env: t.env() });

    expect(dirty.exitCode).toBe(4);
    expect(dirty.stderr).toContain('remove it with --force');
    expect(busy.exitCode).toBe(4);
    expect(busy.stderr).toContain('is in use');
  });

  it('exits 3 when the runner has no worktree, 2 for a malformed id', async () => {
    t.api().expect({
      method: 'DELETE',
      path: `/api/v1/worktrees/${RUNNER_ID}`,
      status: 404,
      reply: apiError(404, 'WORKTREE_NOT_FOUND', `runner ${RUNNER_ID} has no worktree`),
    });

    const missing = await runCommand(['worktrees', 'rm', RUNNER_ID], { env: t.env() });
    const malformed = await runCommand(['worktrees', 'rm', 'abc'], { env: t.env() });
    const none = await runCommand(['worktrees', 'rm'], { env: t.env() });

    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain('has no worktree');
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toContain('RUNNER-ID must be a runner id');
    expect(none.exitCode).toBe(2);
  });
});
