// Git worktrees end to end, as a user drives them: the CLI against the real single-node daemon
// and real detached agents. Two runners launched at the same time with --worktree on one
// project each write a file where they run; each file is only in its own worktree, the
// project's checkout is untouched, `worktrees` lists both, `worktrees rm` refuses a tree with
// work in it and removes tree and branch with --force (docs/worktrees.md).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  buildApps,
  type CliResult,
  describeCli,
  eventually,
  type RunnerView,
  Sandbox,
} from './support/e2e-harness';

const BUILD_TIMEOUT_MS = 900_000;

interface WorktreeRunner extends RunnerView {
  readonly cwd: string;
  readonly worktree: { runnerId: string; path: string; branch: string; baseCommit: string } | null;
}

interface WorktreeJson {
  readonly runnerId: string;
  readonly runnerState: string;
  readonly path: string;
  readonly branch: string;
  readonly removedAt: string | null;
  readonly status: { changes: number; ahead: number; unmerged: number } | null;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=e2e', '-c', 'user.email=e2e@stratavore.invalid', '-C', cwd, ...args],
    { encoding: 'utf8' },
  ).trim();
}

function ok(result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(describeCli(result));
  return result;
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`an earlier step failed: ${what} is unknown`);
  }
  return value;
}

beforeAll(async () => {
  await buildApps(BUILD_TIMEOUT_MS);
}, BUILD_TIMEOUT_MS + 10_000);

describe('worktrees through the CLI against the single-node daemon', () => {
  const sandbox = new Sandbox();
  let head = '';
  let runners: WorktreeRunner[] = [];

  beforeAll(async () => {
    git(sandbox.projectDir, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(sandbox.projectDir, 'README.md'), 'hello\n');
    git(sandbox.projectDir, 'add', '.');
    git(sandbox.projectDir, 'commit', '--quiet', '-m', 'init');
    head = git(sandbox.projectDir, 'rev-parse', 'HEAD');
    await sandbox.startDaemon({ HEARTBEAT_INTERVAL: '1s' });
  }, 180_000);

  afterAll(async () => {
    await sandbox.cleanup();
  }, 120_000);

  it('1. launches two runners at once, each in its own worktree', async () => {
    ok(await sandbox.cli(['new', 'wt', '--path', sandbox.projectDir, '--max-runners', '2']));
    const launch = (name: string) =>
      sandbox.cli([
        'launch',
        'wt',
        '--worktree',
        '--json',
        '--',
        'sh',
        '-c',
        `pwd > ${name}.txt # ${sandbox.marker}`,
      ]);
    const launched = await Promise.all([launch('alpha'), launch('beta')]);
    runners = launched.map((result) => JSON.parse(ok(result).stdout) as WorktreeRunner);
    sandbox.track(runners);
    for (const runner of runners) {
      expect(runner.worktree).toEqual({
        runnerId: runner.id,
        path: join(sandbox.dataDir, 'worktrees', 'wt', runner.id),
        branch: `stratavore/${runner.id}`,
        baseCommit: head,
      });
      expect(runner.cwd).toBe(runner.worktree?.path);
    }
  });

  it('2. each writes only in its own tree; the project is untouched', async () => {
    const [alpha, beta] = runners.map((r) => need(r.worktree, `runner ${r.id}'s worktree`).path);
    const ended = await eventually(
      'both runners complete',
      async () => {
        const all = (await sandbox.runners('wt')) as WorktreeRunner[];
        return all.every((r) => r.state === 'completed') ? all : null;
      },
      { timeoutMs: 60_000 },
    );
    expect(ended).toHaveLength(2);
    expect(readFileSync(join(need(alpha, 'alpha'), 'alpha.txt'), 'utf8').trim()).toBe(alpha);
    expect(readFileSync(join(need(beta, 'beta'), 'beta.txt'), 'utf8').trim()).toBe(beta);
    expect(existsSync(join(need(alpha, 'alpha'), 'beta.txt'))).toBe(false);
    expect(existsSync(join(need(beta, 'beta'), 'alpha.txt'))).toBe(false);
    expect(git(sandbox.projectDir, 'status', '--porcelain')).toBe('');
    expect(git(sandbox.projectDir, 'rev-parse', 'HEAD')).toBe(head);

    const shown = ok(await sandbox.cli(['runners', 'show', need(runners[0], 'alpha').id]));
    expect(shown.stdout).toMatch(/Worktree\s+\S+ \(branch stratavore\//);
  });

  it('3. lists both worktrees after their runners ended', async () => {
    const listed = JSON.parse(
      ok(await sandbox.cli(['worktrees', '--json'])).stdout,
    ) as WorktreeJson[];
    expect(listed.map((w) => w.runnerId).sort()).toEqual(runners.map((r) => r.id).sort());
    for (const worktree of listed) {
      expect(worktree).toMatchObject({
        runnerState: 'completed',
        removedAt: null,
        status: { changes: 1, ahead: 0, unmerged: 0 },
      });
    }
    const table = ok(await sandbox.cli(['worktrees']));
    expect(table.stdout).toMatch(/RUNNER\s+PROJECT\s+STATE\s+BRANCH\s+TREE/);
    expect(table.stdout).toContain('1 change');
  });

  it('4. refuses to remove a tree with work in it, removes tree and branch with --force', async () => {
    const [alpha, beta] = runners;
    const alphaTree = need(alpha?.worktree, 'alpha worktree');
    const refused = await sandbox.cli(['worktrees', 'rm', alphaTree.runnerId]);
    expect(refused.code).toBe(4);
    // oclif wraps long errors and prefixes the lines with `›`.
    const message = refused.stderr.replace(/›/g, ' ').replace(/\s+/g, ' ');
    expect(message).toContain('has 1 uncommitted change in');
    expect(message).toContain('WORKTREE_HAS_CHANGES');

    ok(await sandbox.cli(['worktrees', 'rm', alphaTree.runnerId, '--force']));
    expect(existsSync(alphaTree.path)).toBe(false);
    expect(git(sandbox.projectDir, 'branch', '--list', alphaTree.branch)).toBe('');

    const betaTree = need(beta?.worktree, 'beta worktree');
    rmSync(join(betaTree.path, 'beta.txt'));
    ok(await sandbox.cli(['worktrees', 'rm', betaTree.runnerId]));
    expect(existsSync(betaTree.path)).toBe(false);

    const left = JSON.parse(ok(await sandbox.cli(['worktrees', '--json'])).stdout) as unknown[];
    expect(left).toEqual([]);
    expect(
      git(sandbox.projectDir, 'worktree', 'list', '--porcelain').match(/^worktree /gm),
    ).toHaveLength(1);
    expect(git(sandbox.projectDir, 'status', '--porcelain')).toBe('');
  });
});
