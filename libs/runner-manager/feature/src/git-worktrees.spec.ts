import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Worktree } from '@stratavore/runner-manager-domain';

import { GitWorktrees } from './git-worktrees';
import { git } from './runner-manager.test-support';
import { WorktreeHostError } from './worktree-host.port';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('GitWorktrees', () => {
  let dir: string;
  let repo: string;
  let worktrees: GitWorktrees;

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'git-worktrees-')));
    repo = join(dir, 'repo');
    mkdirSync(join(repo, 'packages', 'api'), { recursive: true });
    git(dir, 'init', '--quiet', '--initial-branch=main', repo);
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    writeFileSync(join(repo, 'packages', 'api', 'index.js'), 'module.exports = 1;\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'init');
    worktrees = new GitWorktrees({ rootDir: join(dir, 'worktrees'), host: 'box' });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function recorded(
    created: { path: string; branch: string; baseCommit: string },
    runnerId: string,
  ): Worktree {
    return {
      runnerId,
      projectId: id(99),
      host: 'box',
      repository: repo,
      path: created.path,
      branch: created.branch,
      baseCommit: created.baseCommit,
      createdAt: new Date(),
      removedAt: null,
    };
  }

  it('makes a worktree outside the project on stratavore/<runner id> from HEAD', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');

    const created = await worktrees.create({
      projectPath: repo,
      projectName: 'web',
      runnerId: id(1),
    });

    expect(created).toEqual({
      repository: repo,
      path: join(dir, 'worktrees', 'web', id(1)),
      cwd: join(dir, 'worktrees', 'web', id(1)),
      branch: `stratavore/${id(1)}`,
      baseCommit: head,
    });
    expect(git(created.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(`stratavore/${id(1)}`);
    expect(existsSync(join(created.path, 'README.md'))).toBe(true);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('works from a project that is a directory inside the repository', async () => {
    const created = await worktrees.create({
      projectPath: join(repo, 'packages', 'api'),
      projectName: 'api',
      runnerId: id(2),
    });

    expect(created.repository).toBe(repo);
    expect(created.cwd).toBe(join(created.path, 'packages', 'api'));
    expect(existsSync(join(created.cwd, 'index.js'))).toBe(true);
  });

  it('refuses what is not a repository with a commit, saying why', async () => {
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const empty = join(dir, 'empty');
    git(dir, 'init', '--quiet', empty);

    await expect(worktrees.inspect(plain)).rejects.toThrow(WorktreeHostError);
    await expect(worktrees.inspect(plain)).rejects.toThrow(
      /the path .*\/plain is not in a git repository \(git: fatal: not a git repository/,
    );
    await expect(worktrees.inspect(join(dir, 'missing'))).rejects.toThrow(/does not exist/);
    await expect(worktrees.inspect(empty)).rejects.toThrow(/has no commit yet/);
    await expect(worktrees.inspect(join(repo, '.git'))).rejects.toThrow(/not in a git work tree/);
  });

  it('tells changes, commits ahead of the base and commits not in HEAD', async () => {
    const created = await worktrees.create({
      projectPath: repo,
      projectName: 'web',
      runnerId: id(3),
    });
    const worktree = recorded(created, id(3));
    const clean = { exists: true, changes: 0, branchExists: true, ahead: 0, unmerged: 0 };
    expect(await worktrees.status(worktree)).toEqual(clean);

    writeFileSync(join(created.path, 'new.txt'), 'x\n');
    writeFileSync(join(created.path, 'README.md'), 'changed\n');
    expect(await worktrees.status(worktree)).toEqual({ ...clean, changes: 2 });

    git(created.path, 'add', '.');
    git(created.path, 'commit', '--quiet', '-m', 'work');
    expect(await worktrees.status(worktree)).toEqual({ ...clean, ahead: 1, unmerged: 1 });

    git(repo, 'merge', '--quiet', '--ff-only', created.branch);
    expect(await worktrees.status(worktree)).toEqual({ ...clean, ahead: 1, unmerged: 0 });
  });

  it('removes the worktree and its branch, with force when it has changes', async () => {
    const created = await worktrees.create({
      projectPath: repo,
      projectName: 'web',
      runnerId: id(4),
    });
    const worktree = recorded(created, id(4));
    writeFileSync(join(created.path, 'new.txt'), 'x\n');

    await expect(worktrees.remove(worktree, { force: false })).rejects.toThrow(
      /git worktree remove/,
    );
    await worktrees.remove(worktree, { force: true });

    expect(existsSync(created.path)).toBe(false);
    expect(git(repo, 'branch', '--list', created.branch)).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(created.path);
    expect(await worktrees.status(worktree)).toEqual({
      exists: false,
      changes: 0,
      branchExists: false,
      ahead: 0,
      unmerged: 0,
    });
  });

  it('removes a worktree whose directory was deleted by hand', async () => {
    const created = await worktrees.create({
      projectPath: repo,
      projectName: 'web',
      runnerId: id(5),
    });
    rmSync(created.path, { recursive: true, force: true });

    await worktrees.remove(recorded(created, id(5)), { force: false });

    expect(git(repo, 'branch', '--list', created.branch)).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(created.path);
  });

  it("retries when another git process holds one of git's locks or is adding a worktree, and only then", async () => {
    // A git that fails `worktree add` with a lock conflict (or another error) a few times first.
    const counter = join(dir, 'attempts');
    const fakeGit = join(dir, 'fake-git.sh');
    const script = (message: string, failures: number) => {
      writeFileSync(
        fakeGit,
        `#!/bin/sh
if [ "$3" = worktree ] && [ "$4" = add ]; then
  n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}
  if [ "$n" -lt ${failures} ]; then echo "${message}" >&2; exit 128; fi
fi
exec git "$@"
`,
        { mode: 0o755 },
      );
      rmSync(counter, { force: true });
    };
    const flaky = new GitWorktrees({
      rootDir: join(dir, 'worktrees'),
      host: 'box',
      gitPath: fakeGit,
      lockRetryMs: 1,
    });

    script(`fatal: Unable to create '${repo}/.git/worktrees.lock': File exists.`, 2);
    const created = await flaky.create({ projectPath: repo, projectName: 'web', runnerId: id(6) });
    expect(created.branch).toBe(`stratavore/${id(6)}`);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');

    // Another process's `worktree add` half done: git already made this runner's branch, then
    // died reading the other entry. The retry takes the branch over instead of refusing it.
    writeFileSync(
      fakeGit,
      `#!/bin/sh
if [ "$3" = worktree ] && [ "$4" = add ]; then
  n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}
  if [ "$n" -lt 1 ]; then
    git -C "$2" branch "$7" "$9"
    echo "fatal: failed to read .git/worktrees/other/commondir: Success" >&2; exit 128
  fi
fi
exec git "$@"
`,
      { mode: 0o755 },
    );
    rmSync(counter, { force: true });
    const raced = await flaky.create({ projectPath: repo, projectName: 'web', runnerId: id(8) });
    expect(readFileSync(counter, 'utf8').trim()).toBe('2');
    expect(git(raced.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(`stratavore/${id(8)}`);
    expect(git(raced.path, 'rev-parse', 'HEAD')).toBe(raced.baseCommit);

    script('fatal: invalid reference: HEAD', 5);
    await expect(
      flaky.create({ projectPath: repo, projectName: 'web', runnerId: id(7) }),
    ).rejects.toThrow(/invalid reference/);
    expect(readFileSync(counter, 'utf8').trim()).toBe('1');
  });

  it('gives every one of many simultaneous launches its worktree, from two processes', async () => {
    // Two hosts on one repository stand for two runner-managers: their git commands race.
    const other = new GitWorktrees({ rootDir: join(dir, 'worktrees'), host: 'box' });
    const runners = Array.from({ length: 8 }, (_, n) => id(100 + n));

    const created = await Promise.all(
      runners.map((runnerId, n) =>
        (n % 2 === 0 ? worktrees : other).create({
          projectPath: repo,
          projectName: 'web',
          runnerId,
        }),
      ),
    );

    expect(created.map((c) => c.branch)).toEqual(runners.map((r) => `stratavore/${r}`));
    const listed = git(repo, 'worktree', 'list', '--porcelain');
    for (const c of created) expect(listed).toContain(`worktree ${c.path}`);
  });
});
