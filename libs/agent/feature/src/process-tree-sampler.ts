import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** CPU and memory of a process and all its descendants. */
export interface ResourceSample {
  /** Percent of one core over the time since the previous sample (may exceed 100). */
  readonly cpuPercent: number;
  /** Sum of the resident set sizes. */
  readonly memoryBytes: number;
}

/** Measures a process tree; injected so unit tests need no real processes. */
export interface ResourceSampler {
  sample(rootPid: number): Promise<ResourceSample>;
}

export interface ProcfsTreeSamplerOptions {
  /** Default `/proc`. */
  readonly procRoot?: string;
  /** `getconf CLK_TCK`; default read once from getconf (100 on Linux). */
  readonly clockTicksPerSecond?: number;
  /** `getconf PAGESIZE`; default read once from getconf. */
  readonly pageSizeBytes?: number;
  /** Monotonic milliseconds; default `performance.now()`. */
  readonly nowMs?: () => number;
}

interface ProcStat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

/**
 * Reads `/proc` to measure the whole tree under a pid: the tree is rebuilt on every sample from
 * the ppid of each `/proc/<pid>/stat` (this kernel family does not always expose
 * `/proc/<pid>/task/<tid>/children`). CPU counts the children's reaped time (cutime, cstime) so
 * a short-lived grandchild's work is not lost; RSS is `statm` resident pages × page size.
 */
export class ProcfsTreeSampler implements ResourceSampler {
  private readonly procRoot: string;
  private readonly ticksPerSecond: number;
  private readonly pageSize: number;
  private readonly nowMs: () => number;
  private previous: { rootPid: number; ticks: number; atMs: number } | undefined;

  constructor(options: ProcfsTreeSamplerOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.ticksPerSecond = options.clockTicksPerSecond ?? getconf('CLK_TCK', 100);
    this.pageSize = options.pageSizeBytes ?? getconf('PAGESIZE', 4096);
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  async sample(rootPid: number): Promise<ResourceSample> {
    const atMs = this.nowMs();
    const stats = await this.readAllStats();
    const tree = descendantsOf(rootPid, stats);
    let ticks = 0;
    for (const pid of tree) ticks += stats.get(pid)?.ticks ?? 0;
    const pages = await Promise.all(tree.map((pid) => this.residentPages(pid)));
    const memoryBytes = pages.reduce((sum, n) => sum + n, 0) * this.pageSize;

    let cpuPercent = 0;
    const previous = this.previous;
    if (previous !== undefined && previous.rootPid === rootPid && atMs > previous.atMs) {
      const cpuSeconds = (ticks - previous.ticks) / this.ticksPerSecond;
      const wallSeconds = (atMs - previous.atMs) / 1000;
      // A descendant that was reparented away takes its ticks with it: never report negative.
      cpuPercent = Math.max(0, Math.round((cpuSeconds / wallSeconds) * 1000) / 10);
    }
    this.previous = { rootPid, ticks, atMs };
    return { cpuPercent, memoryBytes };
  }

  private async readAllStats(): Promise<Map<number, ProcStat>> {
    const entries = await readdir(this.procRoot);
    const pids = entries.filter((name) => /^\d+$/.test(name));
    const stats = new Map<number, ProcStat>();
    await Promise.all(
      pids.map(async (name) => {
        const text = await readFile(join(this.procRoot, name, 'stat'), 'utf8').catch(() => null);
        const stat = text === null ? undefined : parseStat(text);
        if (stat !== undefined) stats.set(Number(name), stat);
      }),
    );
    return stats;
  }

  private async residentPages(pid: number): Promise<number> {
    const text = await readFile(join(this.procRoot, String(pid), 'statm'), 'utf8').catch(
      () => null,
    );
    const resident = Number(text?.trim().split(/\s+/)[1]);
    return Number.isFinite(resident) ? resident : 0;
  }
}

/** Parses `/proc/<pid>/stat`; the command name may hold spaces and parentheses. */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  // Fields after the name, from field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(fields[1]);
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks)) return undefined;
  return { ppid, ticks };
}

function descendantsOf(rootPid: number, stats: ReadonlyMap<number, ProcStat>): number[] {
  if (!stats.has(rootPid)) return [];
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(pid);
    children.set(stat.ppid, siblings);
  }
  const tree: number[] = [];
  const queue = [rootPid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}
