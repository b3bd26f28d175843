import { type WorktreeReply } from '@stratavore/contracts';

import { useFakeApi } from '../../testing/command-test-env.test-support';
import { apiError, PROJECT_ID, RUNNER_ID } from '../../testing/fixtures.test-support';
import { runCommand } from '../../testing/run-command.test-support';

const OTHER_ID = '7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

function aWorktree(overrides: Partial<WorktreeReply> = {}): WorktreeReply {
  return {
    runnerId: RUNNER_ID,
    project: { id: PROJECT_ID, name: 'web-app' },
    runnerState: 'completed',
    activeRunners: [],
    path: `/data/worktrees/web-app/${RUNNER_ID}`,
    branch: `stratavore/${RUNNER_ID}`,
    baseCommit: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    repository: '/src/web-app',
    host: 'box',
    createdAt: new Date(Date.now() - 3 * 60_000).toISOString(),
    removedAt: null,
    status: { exists: true, changes: 0, branchExists: true, ahead: 0, unmerged: 0 },
    statusNote: null,
    ...overrides,
  };
}

describe('stratavore worktrees', () => {
  const t = useFakeApi();

  it('lists worktrees: runner, state, branch, tree, commits ahead, age and path', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/worktrees',
      reply: {
        worktrees: [
          aWorktree(),
          aWorktree({
            runnerId: OTHER_ID,
            runnerState: 'running',
            activeRunners: [{ id: OTHER_ID, state: 'running' }],
            branch: `stratavore/${OTHER_ID}`,
            path: `/data/worktrees/web-app/${OTHER_ID}`,
            status: { exists: true, changes: 3, branchExists: true, ahead: 2, unmerged: 2 },
          }),
        ],
      },
    });

    const result = await runCommand(['worktrees'], { env: t.env() });

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUNNER\s+PROJECT\s+STATE\s+BRANCH\s+TREE\s+AHEAD\s+CREATED\s+PATH$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${RUNNER_ID}\\s+web-app\\s+completed\\s+stratavore/${RUNNER_ID}\\s+clean\\s+0\\s+3m ago\\s+/data/worktrees/web-app/${RUNNER_ID}$`,
      ),
    );
    expect(lines[2]).toMatch(/running\s+stratavore\/\S+\s+3 changes\s+\+2 \(2 unmerged\)/);
  });

  it('filters by project, includes removed ones with --all, and prints JSON', async () => {
    const removed = aWorktree({
      removedAt: '2026-11-24T11:00:00.000Z',
      status: null,
      statusNote: 'removed',
    });
    t.api().expect({
      method: 'GET',
      path: '/api/v1/worktrees?project=web-app&includeRemoved=true',
      reply: { worktrees: [removed] },
    });

    const result = await runCommand(['worktrees', '--project', 'web-app', '--all', '--json'], {
      env: t.env(),
    });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([removed]);
  });

  it('says why a worktree shows no status', async () => {
    t.api().expect({
      method: 'GET',
      path: '/api/v1/worktrees',
      reply: {
        worktrees: [
          aWorktree({
            status: null,
            statusNote: 'it is on host other-box; this runner-manager runs on box',
          }),
        ],
      },
    });

    const result = await runCommand(['worktrees'], { env: t.env() });

    expect(result.stdout).toMatch(/\s\?\s+-\s+/);
    expect(result.stdout).toContain(`? ${RUNNER_ID}: it is on host other-box`);
  });

  it('says so when there are none, and exits 3 for an unknown project', async () => {
    t.api().expect(
      { method: 'GET', path: '/api/v1/worktrees', reply: { worktrees: [] } },
      {
        method: 'GET',
        path: '/api/v1/worktrees?project=nope',
        status: 404,
        reply: apiError(404, 'PROJECT_NOT_FOUND', 'project nope not found'),
      },
    );

    const none = await runCommand(['worktrees'], { env: t.env() });
    const unknown = await runCommand(['worktrees', '--project', 'nope'], { env: t.env() });

    expect(none.stdout).toContain('No worktrees.');
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toContain('project nope not found');
  });
});
