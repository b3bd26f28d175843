import { RunnerErrorCode } from './runner.exception';
import {
  toWorktreeReply,
  type Worktree,
  worktreeBranchOf,
  worktreeHasChanges,
  worktreeInUse,
  worktreeLaunchRefused,
  worktreeNotFound,
} from './worktree';

const RUNNER = '00000000-0000-4000-8000-000000000001';

const worktree: Worktree = {
  runnerId: RUNNER,
  projectId: '00000000-0000-4000-8000-0000000000aa',
  host: 'box',
  repository: '/srv/web',
  path: `/data/worktrees/web/${RUNNER}`,
  branch: worktreeBranchOf(RUNNER),
  baseCommit: 'c0ffee',
  createdAt: new Date('2026-11-24T10:00:00Z'),
  removedAt: null,
};

const clean = { exists: true, changes: 0, branchExists: true, ahead: 0, unmerged: 0 };

describe('worktrees', () => {
  it('names the branch after the runner', () => {
    expect(worktreeBranchOf(RUNNER)).toBe(`stratavore/${RUNNER}`);
  });

  it('refuses a launch on the worktree field', () => {
    expect(worktreeLaunchRefused('expected a git repository')).toMatchObject({
      code: RunnerErrorCode.ValidationFailed,
      message: 'invalid payload: worktree: expected a git repository',
      details: { issues: [{ field: 'worktree', message: 'expected a git repository' }] },
    });
  });

  it('says whether a runner never had a worktree or had it removed', () => {
    expect(worktreeNotFound(RUNNER).message).toBe(
      `runner ${RUNNER} has no worktree (it was not launched with --worktree)`,
    );
    const removed = { ...worktree, removedAt: new Date('2026-11-24T12:00:00Z') };
    expect(worktreeNotFound(RUNNER, removed)).toMatchObject({
      code: RunnerErrorCode.WorktreeNotFound,
      message: `the worktree of runner ${RUNNER} (branch stratavore/${RUNNER}, ${worktree.path}) was removed at 2026-11-24T12:00:00.000Z`,
      details: { runner: RUNNER, removedAt: '2026-11-24T12:00:00.000Z' },
    });
  });

  it('names the runners in the way, and what would be lost', () => {
    expect(worktreeInUse(worktree, [{ id: 'r2', state: 'running' }]).message).toBe(
      `the worktree of runner ${RUNNER} is in use by r2 (running); stop the runner first (stratavore kill <runner-id>)`,
    );
    expect(worktreeHasChanges(worktree, { ...clean, changes: 1 }).message).toBe(
      `the worktree of runner ${RUNNER} has 1 uncommitted change in ${worktree.path}; commit or merge them first, or remove it with --force`,
    );
    expect(
      worktreeHasChanges(worktree, { ...clean, changes: 3, ahead: 2, unmerged: 2 }),
    ).toMatchObject({
      code: RunnerErrorCode.WorktreeHasChanges,
      message: `the worktree of runner ${RUNNER} has 3 uncommitted changes in ${worktree.path} and 2 commits on stratavore/${RUNNER} not merged into the project's HEAD; commit or merge them first, or remove it with --force`,
      details: { runner: RUNNER, branch: `stratavore/${RUNNER}`, changes: 3, unmerged: 2 },
    });
  });

  it('shows a worktree with its runner, users and status', () => {
    expect(
      toWorktreeReply({
        worktree,
        project: { id: worktree.projectId, name: 'web' },
        runnerState: 'running',
        activeRunners: [{ id: RUNNER, state: 'running' }],
        status: clean,
        statusNote: null,
      }),
    ).toEqual({
      runnerId: RUNNER,
      project: { id: worktree.projectId, name: 'web' },
      runnerState: 'running',
      activeRunners: [{ id: RUNNER, state: 'running' }],
      path: worktree.path,
      branch: `stratavore/${RUNNER}`,
      baseCommit: 'c0ffee',
      repository: '/srv/web',
      host: 'box',
      createdAt: '2026-11-24T10:00:00.000Z',
      removedAt: null,
      status: clean,
      statusNote: null,
    });
  });
});
