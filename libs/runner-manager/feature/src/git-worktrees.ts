import { execFile } from 'node:child_process';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

import {
  type Worktree,
  worktreeBranchOf,
  type WorktreeStatus,
} from '@stratavore/runner-manager-domain';

import {
  type CreatedWorktree,
  type RepositoryHead,
  type WorktreeHost,
  WorktreeHostError,
} from './worktree-host.port';

export interface GitWorktreesOptions {
  /** Where worktrees are made: `<rootDir>/<project name>/<runner id>`. */
  readonly rootDir: string;
  /** Recorded as each worktree's host (default `os.hostname()`). */
  readonly host?: string;
  /** The git binary (default `git` on the PATH). */
  readonly gitPath?: string;
  /** Attempts when git finds one of its lock files taken (default 8). */
  readonly lockAttempts?: number;
  /** First wait after a lock conflict, doubling with jitter (default 50 ms). */
  readonly lockRetryMs?: number;
}

/** Variables that would point git at another repository than the one asked. */
const REPOSITORY_ENV = new Set([
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
  'GIT_CEILING_DIRECTORIES',
]);

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!REPOSITORY_ENV.has(name)) env[name] = value;
  }
  // Messages in English, never a prompt for credentials or an editor.
  return { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true' };
}

/**
 * git's messages when another git process holds one of its lock files, or is halfway through
 * registering a worktree of its own (`git worktree add` reads every worktree's entry and dies
 * on one whose `commondir` or `gitdir` is not written yet).
 */
const LOCK_CONFLICT =
  /(\.lock'?: File exists|Unable to create '[^']*\.lock'|cannot lock ref|could not lock|Another git process seems to be running|failed to read .*worktrees\/[^/\s]+\/(commondir|gitdir))/i;

class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${firstLine(stderr) || `exit ${String(exitCode)}`}`);
    this.name = 'GitCommandError';
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0) ?? ''
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The git worktrees of runners on this machine, through the `git` CLI: made under
 * `<rootDir>/<project>/<runner id>` (outside the project's tree, so the project's own checkout
 * and its tools never see them) on branch `stratavore/<runner id>`. Operations on one repository
 * are serialised in this process, and a lock conflict with another process (a second
 * runner-manager, a person's own git) is retried with backoff, so simultaneous launches all get
 * their worktree.
 */
export class GitWorktrees implements WorktreeHost {
  readonly host: string;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: GitWorktreesOptions) {
    this.host = options.host ?? hostname();
  }

  async inspect(dir: string): Promise<RepositoryHead> {
    if (!(await exists(dir))) throw new WorktreeHostError(`the path ${dir} does not exist`);
    let inside: string;
    try {
      inside = (await this.git(dir, ['rev-parse', '--is-inside-work-tree'])).trim();
    } catch (error) {
      throw new WorktreeHostError(
        `the path ${dir} is not in a git repository (${describeGitFailure(error)})`,
      );
    }
    if (inside !== 'true') {
      throw new WorktreeHostError(
        `the path ${dir} is not in a git work tree (a bare repository or .git)`,
      );
    }
    const lines = (await this.git(dir, ['rev-parse', '--show-toplevel', '--show-prefix'])).split(
      '\n',
    );
    const repository = lines[0] ?? dir;
    let head: string;
    try {
      head = (await this.git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).trim();
    } catch {
      throw new WorktreeHostError(`the git repository at ${repository} has no commit yet`);
    }
    return { repository, prefix: lines[1] ?? '', head };
  }

  async create(input: {
    readonly projectPath: string;
    readonly projectName: string;
    readonly runnerId: string;
  }): Promise<CreatedWorktree> {
    const { repository, prefix, head } = await this.inspect(input.projectPath);
    const branch = worktreeBranchOf(input.runnerId);
    const dir = join(this.options.rootDir, input.projectName, input.runnerId);
    await mkdir(dirname(dir), { recursive: true });
    await this.serialised(repository, () =>
      this.gitRetryingLocks(repository, (attempt) => [
        'worktree',
        'add',
        '--quiet',
        // git makes the branch before it checks the other worktrees: after a conflict the branch
        // (this runner's own) may exist, so later attempts take it over from `head`.
        attempt === 1 ? '-b' : '-B',
        branch,
        dir,
        head,
      ]),
    );
    const path = await realpath(dir);
    const cwd = prefix === '' ? path : join(path, prefix.replace(/\/+$/, ''));
    // The project's directory may hold nothing tracked yet: it is not checked out then.
    await mkdir(cwd, { recursive: true });
    return { repository, path, cwd, branch, baseCommit: head };
  }

  async status(worktree: Worktree): Promise<WorktreeStatus> {
    // Its `.git` file, not the directory: git must not answer for a repository around it.
    const present = await exists(join(worktree.path, '.git'));
    const changes = present
      ? (await this.git(worktree.path, ['status', '--porcelain', '--untracked-files=all']))
          .split('\n')
          .filter((line) => line.length > 0).length
      : 0;
    const branchExists = await this.branchExists(worktree);
    if (!branchExists) return { exists: present, changes, branchExists, ahead: 0, unmerged: 0 };
    const count = async (range: string) =>
      Number((await this.git(worktree.repository, ['rev-list', '--count', range])).trim());
    return {
      exists: present,
      changes,
      branchExists,
      ahead: await count(`${worktree.baseCommit}..refs/heads/${worktree.branch}`),
      unmerged: await count(`HEAD..refs/heads/${worktree.branch}`),
    };
  }

  async remove(worktree: Worktree, options: { readonly force: boolean }): Promise<void> {
    await this.serialised(worktree.repository, async () => {
      if (await exists(join(worktree.path, '.git'))) {
        await this.gitRetryingLocks(worktree.repository, [
          'worktree',
          'remove',
          ...(options.force ? ['--force'] : []),
          worktree.path,
        ]);
      } else {
        // Deleted by hand: forget its administrative files.
        await this.gitRetryingLocks(worktree.repository, ['worktree', 'prune']);
      }
      if (await this.branchExists(worktree)) {
        await this.gitRetryingLocks(worktree.repository, ['branch', '-D', worktree.branch]);
      }
    });
  }

  private async branchExists(worktree: Worktree): Promise<boolean> {
    try {
      await this.git(worktree.repository, [
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/heads/${worktree.branch}`,
      ]);
      return true;
    } catch (error) {
      if (error instanceof GitCommandError && error.exitCode === 1) return false;
      throw error;
    }
  }

  /** Runs `work` after every earlier operation on `repository` in this process settled. */
  private serialised<T>(repository: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(repository) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(repository, settled);
    void settled.then(() => {
      if (this.queues.get(repository) === settled) this.queues.delete(repository);
    });
    return next;
  }

  /** `args`, or the arguments of each attempt (1, 2, ...), run until no lock conflict. */
  private async gitRetryingLocks(
    cwd: string,
    args: readonly string[] | ((attempt: number) => readonly string[]),
  ): Promise<string> {
    const attempts = this.options.lockAttempts ?? 8;
    let delay = this.options.lockRetryMs ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.git(cwd, typeof args === 'function' ? args(attempt) : args);
      } catch (error) {
        const conflict = error instanceof GitCommandError && LOCK_CONFLICT.test(error.stderr);
        if (!conflict || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
        delay *= 2;
      }
    }
  }

  private git(cwd: string, args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.options.gitPath ?? 'git',
        ['-C', cwd, ...args],
        { env: gitEnv(), timeout: 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve(stdout);
            return;
          }
          const code = typeof error.code === 'number' ? error.code : null;
          reject(
            error.code === 'ENOENT'
              ? new WorktreeHostError(`git is not installed (${this.options.gitPath ?? 'git'})`)
              : new GitCommandError(args, code, stderr),
          );
        },
      );
    });
  }
}

/** git's own words for a failure of a git command, else the error's message. */
export function describeGitFailure(error: unknown): string {
  if (error instanceof GitCommandError) return `git: ${firstLine(error.stderr) || error.message}`;
  return error instanceof Error ? error.message : String(error);
}
