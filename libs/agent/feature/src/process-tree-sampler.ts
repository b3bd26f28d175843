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
  /**
   * USER_HZ, the unit of the times in `/proc/<pid>/stat`. Default 100: the kernel reports them in
   * USER_HZ = 100 on every Linux architecture the agent runs on (x86, arm, arm64, ...),
   * whatever its internal HZ, so the agent never asks `getconf CLK_TCK`.
   */
  readonly clockTicksPerSecond?: number;
  /** Monotonic milliseconds; default `performance.now()`. */
  readonly nowMs?: () => number;
}

interface ProcStat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

const USER_HZ = 100;

/**
 * Reads `/proc` to measure the whole tree under a pid: the tree is rebuilt on every sample from
 * the ppid of each `/proc/<pid>/stat` (this kernel family does not always expose
 * `/proc/<pid>/task/<tid>/children`). CPU counts the children's reaped time (cutime, cstime) so
 * a short-lived grandchild's work is not lost; memory is the sum of `VmRSS` in
 * `/proc/<pid>/status` (kB, so no page size is needed).
 *
 * The first sample of a pid reads that process alone, not every process of the machine: it is
 * taken right after the spawn, for the first heartbeat, when the tree is the process itself and
 * the CPU percentage is 0 anyway. It sets the CPU baseline to the process's own ticks; what
 * descendants started in the few milliseconds before it used counts in the next interval.
 */
export class ProcfsTreeSampler implements ResourceSampler {
  private readonly procRoot: string;
  private readonly ticksPerSecond: number;
  private readonly nowMs: () => number;
  private previous: { rootPid: number; ticks: number; atMs: number } | undefined;

  constructor(options: ProcfsTreeSamplerOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.ticksPerSecond = options.clockTicksPerSecond ?? USER_HZ;
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  async sample(rootPid: number): Promise<ResourceSample> {
    const atMs = this.nowMs();
    const previous = this.previous?.rootPid === rootPid ? this.previous : undefined;
    const { tree, ticks } =
      previous === undefined ? await this.readRoot(rootPid) : await this.readTree(rootPid);
    const kilobytes = await Promise.all(tree.map((pid) => this.residentKilobytes(pid)));
    const memoryBytes = kilobytes.reduce((sum, n) => sum + n, 0) * 1024;

    let cpuPercent = 0;
    if (previous !== undefined && atMs > previous.atMs) {
      const cpuSeconds = (ticks - previous.ticks) / this.ticksPerSecond;
      const wallSeconds = (atMs - previous.atMs) / 1000;
      // A descendant that was reparented away takes its ticks with it: never report negative.
      cpuPercent = Math.max(0, Math.round((cpuSeconds / wallSeconds) * 1000) / 10);
    }
    this.previous = { rootPid, ticks, atMs };
    return { cpuPercent, memoryBytes };
  }

  private async readRoot(rootPid: number): Promise<{ tree: number[]; ticks: number }> {
    const stat = await this.readStat(String(rootPid));
    return stat === undefined ? { tree: [], ticks: 0 } : { tree: [rootPid], ticks: stat.ticks };
  }

  private async readTree(rootPid: number): Promise<{ tree: number[]; ticks: number }> {
    const stats = await this.readAllStats();
    const tree = descendantsOf(rootPid, stats);
    let ticks = 0;
    for (const pid of tree) ticks += stats.get(pid)?.ticks ?? 0;
    return { tree, ticks };
  }

  private async readAllStats(): Promise<Map<number, ProcStat>> {
    const entries = await readdir(this.procRoot);
    const pids = entries.filter((name) => /^\d+$/.test(name));
    const stats = new Map<number, ProcStat>();
    await Promise.all(
      pids.map(async (name) => {
        const stat = await this.readStat(name);
        if (stat !== undefined) stats.set(Number(name), stat);
      }),
    );
    return stats;
  }

  private async readStat(pid: string): Promise<ProcStat | undefined> {
    const text = await readFile(join(this.procRoot, pid, 'stat'), 'utf8').catch(() => null);
    return text === null ? undefined : parseStat(text);
  }

  /** `VmRSS` of `/proc/<pid>/status`; 0 for a kernel thread, a zombie or a process gone. */
  private async residentKilobytes(pid: number): Promise<number> {
    const text = await readFile(join(this.procRoot, String(pid), 'status'), 'utf8').catch(
      () => null,
    );
    const resident = Number(text?.match(/^VmRSS:\s*(\d+)\s*kB/m)?.[1]);
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
