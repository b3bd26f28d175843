import {
  type LaunchRunnerReply,
  type RemoveWorktreeReply,
  RunnerErrorCode,
  type WorktreeListReply,
  type WorktreeReply,
} from '@stratavore/contracts';

import { SUITE_PROJECT_ID as PROJECT_ID, useGatewaySuite } from '../gateway-suite.test-support';

const RUNNER_ID = '11111111-1111-4111-8111-111111111111';

const worktree: WorktreeReply = {
  runnerId: RUNNER_ID,
  project: { id: PROJECT_ID, name: 'web' },
  runnerState: 'completed',
  activeRunners: [],
  path: `/data/worktrees/web/${RUNNER_ID}`,
  branch: `stratavore/${RUNNER_ID}`,
  baseCommit: 'c0ffee',
  repository: '/srv/web',
  host: 'box',
  createdAt: '2026-11-24T10:00:00.000Z',
  removedAt: null,
  status: { exists: true, changes: 0, branchExists: true, ahead: 1, unmerged: 0 },
  statusNote: null,
};

describe('/api/v1/worktrees', () => {
  const suite = useGatewaySuite('gateway_worktrees');
  const call = suite.call.bind(suite);

  it('lists worktrees for a viewer, passing the project and includeRemoved', async () => {
    suite.gateway.runnerManager
      .expect('worktrees.list', () => ({ worktrees: [worktree] }))
      .expect('worktrees.list', () => ({ worktrees: [] }));

    const all = await call<WorktreeListReply>('GET', '/api/v1/worktrees', suite.viewer);
    const some = await call<WorktreeListReply>(
      'GET',
      '/api/v1/worktrees?project=web&includeRemoved=true',
      suite.viewer,
    );

    expect(all).toEqual({ status: 200, json: { worktrees: [worktree] } });
    expect(some).toEqual({ status: 200, json: { worktrees: [] } });
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { includeRemoved: false },
      { project: 'web', includeRemoved: true },
    ]);
  });

  it('removes a worktree for an operator, with force from the query', async () => {
    const removed = { ...worktree, removedAt: '2026-11-24T11:00:00.000Z' };
    suite.gateway.runnerManager
      .expect('worktrees.remove', () => ({ removed }))
      .expect('worktrees.remove', () => ({ removed }));

    const plain = await call<RemoveWorktreeReply>(
      'DELETE',
      `/api/v1/worktrees/${RUNNER_ID}`,
      suite.operator,
    );
    const forced = await call<RemoveWorktreeReply>(
      'DELETE',
      `/api/v1/worktrees/${RUNNER_ID}?force=true`,
      suite.operator,
    );

    expect(plain).toEqual({ status: 200, json: { removed } });
    expect(forced.status).toBe(200);
    expect(suite.gateway.runnerManager.received.map((r) => r.payload)).toEqual([
      { runner: RUNNER_ID, force: false },
      { runner: RUNNER_ID, force: true },
    ]);
  });

  it('refuses bad fields at the edge with field-level 400s, without asking runner-manager', async () => {
    const badId = await call('DELETE', '/api/v1/worktrees/nope', suite.operator);
    const badForce = await call(
      'DELETE',
      `/api/v1/worktrees/${RUNNER_ID}?force=maybe`,
      suite.operator,
    );
    const badList = await call(
      'GET',
      '/api/v1/worktrees?includeRemoved=1&colour=red',
      suite.viewer,
    );

    expect([badId.status, badId.json.errors]).toEqual([
      400,
      [{ field: 'runner', message: 'expected a runner id (uuid)' }],
    ]);
    expect([badForce.status, badForce.json.errors]).toEqual([
      400,
      [{ field: 'force', message: 'expected true or false' }],
    ]);
    expect(badList.status).toBe(400);
    expect(badList.json.errors?.map((e) => e.field).sort()).toEqual(['(body)', 'includeRemoved']);
    expect(suite.gateway.runnerManager.received).toEqual([]);
  });

  it('needs the operator scope to remove', async () => {
    const response = await call('DELETE', `/api/v1/worktrees/${RUNNER_ID}`, suite.viewer);
    expect(response.status).toBe(403);
  });

  it('passes worktree: true of a launch on, and refuses a malformed one', async () => {
    suite.gateway.runnerManager.expect('runners.launch', (): LaunchRunnerReply => ({
      status: 'queued',
      queuedLaunch: {
        id: '33333333-3333-4333-8333-333333333333',
        project: { id: PROJECT_ID, name: 'web' },
        position: 1,
        mode: 'headless',
        command: ['claude'],
        prompt: 'hi',
        createdAt: '2026-11-24T10:00:00.000Z',
      },
    }));

    const ok = await call('POST', '/api/v1/projects/web/runners', suite.operator, {
      prompt: 'hi',
      worktree: true,
      queue: true,
    });
    const bad = await call('POST', '/api/v1/projects/web/runners', suite.operator, {
      worktree: 'yes',
    });

    expect(ok.status).toBe(202);
    expect(suite.gateway.runnerManager.received[0]?.payload).toMatchObject({ worktree: true });
    expect([bad.status, bad.json.errors]).toEqual([
      400,
      [{ field: 'worktree', message: 'expected true or false' }],
    ]);
  });

  it.each([
    [RunnerErrorCode.WorktreeNotFound, 404],
    [RunnerErrorCode.WorktreeInUse, 409],
    [RunnerErrorCode.WorktreeHasChanges, 409],
    [RunnerErrorCode.WorktreeUnavailable, 409],
  ])('maps %s to %i with runner-manager message', async (code, status) => {
    suite.gateway.runnerManager.expect('worktrees.remove', () => {
      throw Object.assign(new Error(`worktree of ${RUNNER_ID}: ${code}`), { code });
    });
    const response = await call('DELETE', `/api/v1/worktrees/${RUNNER_ID}`, suite.operator);
    expect([response.status, response.json.code, response.json.message]).toEqual([
      status,
      code,
      `worktree of ${RUNNER_ID}: ${code}`,
    ]);
  });

  it('documents the routes in OpenAPI', async () => {
    const response = await fetch(`${suite.gateway.url}/docs-json`);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { description: string }>>;
    };
    expect(document.paths['/api/v1/worktrees']?.get?.description).toContain('viewer');
    expect(document.paths['/api/v1/worktrees/{id}']?.delete?.description).toContain('operator');
    expect(JSON.stringify(document.paths['/api/v1/projects/{name}/runners']?.post)).toContain(
      '"worktree"',
    );
  });
});
