import { type WorktreeReply } from '@stratavore/contracts';

import { ApiError } from './api-client.errors';
import { type RecordingServer, startRecordingServer } from './recording-server.test-support';
import { StratavoreApiClient } from './stratavore-api-client';

const RUNNER_ID = '11111111-1111-4111-8111-111111111111';

const worktree: WorktreeReply = {
  runnerId: RUNNER_ID,
  project: { id: '22222222-2222-4222-8222-222222222222', name: 'web' },
  runnerState: 'completed',
  activeRunners: [],
  path: `/data/worktrees/web/${RUNNER_ID}`,
  branch: `stratavore/${RUNNER_ID}`,
  baseCommit: 'a'.repeat(40),
  repository: '/srv/web',
  host: 'box',
  createdAt: '2026-11-24T10:00:00.000Z',
  removedAt: null,
  status: { exists: true, changes: 2, branchExists: true, ahead: 1, unmerged: 1 },
  statusNote: null,
};

describe('StratavoreApiClient worktrees', () => {
  let server: RecordingServer;
  let client: StratavoreApiClient;

  beforeAll(async () => {
    server = await startRecordingServer();
    client = new StratavoreApiClient({ baseUrl: server.url, token: 'sv_key' });
  });

  afterEach(() => {
    server.seen.length = 0;
  });

  afterAll(() => server.close());

  it('lists worktrees, by project and with the removed ones when asked', async () => {
    server.answer(200, { worktrees: [worktree] });

    expect(await client.listWorktrees()).toEqual({ worktrees: [worktree] });
    await client.listWorktrees({ project: 'web', includeRemoved: true });

    expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /api/v1/worktrees',
      'GET /api/v1/worktrees?project=web&includeRemoved=true',
    ]);
  });

  it('removes a worktree by its runner id, with force when asked', async () => {
    const removed = { ...worktree, removedAt: '2026-11-24T11:00:00.000Z' };
    server.answer(200, { removed });

    expect(await client.removeWorktree(RUNNER_ID)).toEqual({ removed });
    await client.removeWorktree(RUNNER_ID, { force: true });

    expect(server.seen.map((request) => `${request.method} ${request.url}`)).toEqual([
      `DELETE /api/v1/worktrees/${RUNNER_ID}`,
      `DELETE /api/v1/worktrees/${RUNNER_ID}?force=true`,
    ]);
  });

  it('keeps the code and message of a refusal', async () => {
    server.answer(409, {
      statusCode: 409,
      code: 'WORKTREE_HAS_CHANGES',
      message: 'the worktree of runner x has 2 uncommitted changes',
      requestId: 'req-1',
    });

    const error = await client.removeWorktree(RUNNER_ID).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 409,
      code: 'WORKTREE_HAS_CHANGES',
      message: 'the worktree of runner x has 2 uncommitted changes',
    });
  });

  it('sends worktree: true in a launch', async () => {
    server.answer(201, {
      status: 'queued',
      queuedLaunch: {
        id: '33333333-3333-4333-8333-333333333333',
        project: { id: worktree.project.id, name: 'web' },
        position: 1,
        mode: 'headless',
        command: ['claude'],
        prompt: 'hi',
        createdAt: '2026-11-24T10:00:00.000Z',
      },
    });

    await client.launchRunner('web', { prompt: 'hi', worktree: true });

    expect(JSON.parse(server.seen[0]?.body ?? '{}')).toEqual({ prompt: 'hi', worktree: true });
  });
});
