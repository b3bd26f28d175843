/**
 * Where the CPU went during a measured window (Linux, from /proc): the processes a bench names,
 * every PostgreSQL process, and the whole machine, so a figure can be read against what else was
 * running (on a shared two-core machine, other work shows up as `everything else`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Other work above this (% of one core) during a window makes its figures suspect. */
const BUSY_OTHER_PERCENT = 25;

/** USER_HZ: the unit of /proc's CPU times (100 on every Linux build Node supports). */
const TICKS_PER_SECOND = 100;

interface Snapshot {
  readonly at: number;
  readonly machineBusy: number;
  readonly perPid: Map<number, { comm: string; ticks: number }>;
}

function machineBusyTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return user! + nice! + system! + irq! + softirq! + (steal ?? 0);
}

function processTicks(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat; 12 and 13 after "pid (comm) ".
      out.set(Number(entry), { comm, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function snapshot(): Snapshot {
  return { at: Date.now(), machineBusy: machineBusyTicks(), perPid: processTicks() };
}

/** CPU use over the window, in % of one core (a two-core machine tops out at 200 %). */
export interface CpuReport {
  readonly seconds: number;
  readonly groups: ReadonlyArray<{ readonly name: string; readonly percent: number }>;
  readonly postgresPercent: number;
  readonly machinePercent: number;
  /** The machine's use minus the named groups and PostgreSQL. */
  readonly otherPercent: number;
}

/**
 * Starts measuring; `stop()` reports. `groups` name the pids to account separately (asked at
 * the end of the window); `measured` adds groups whose use was measured otherwise (a process
 * that has exited by then reports its own), so that it is not counted as everything else.
 */
export function startCpuMeter(groups: () => ReadonlyArray<{ name: string; pids: number[] }>): {
  stop(measured?: ReadonlyArray<{ name: string; percent: number }>): CpuReport;
} {
  const before = snapshot();
  return {
    stop(measured = []): CpuReport {
      const after = snapshot();
      const seconds = (after.at - before.at) / 1000;
      const percent = (ticks: number) => (ticks / TICKS_PER_SECOND / seconds) * 100;
      const used = (pid: number) => {
        const end = after.perPid.get(pid);
        if (!end) return 0;
        const start = before.perPid.get(pid);
        return start && start.comm === end.comm ? end.ticks - start.ticks : end.ticks;
      };
      const counted = new Set<number>();
      const named = groups().map((group) => {
        let ticks = 0;
        for (const pid of group.pids) {
          if (counted.has(pid)) continue;
          counted.add(pid);
          ticks += used(pid);
        }
        return { name: group.name, percent: percent(ticks) };
      });
      named.push(...measured);
      let postgresTicks = 0;
      for (const [pid, { comm }] of after.perPid) {
        if (!counted.has(pid) && (comm === 'postgres' || comm.startsWith('postgres:'))) {
          postgresTicks += used(pid);
        }
      }
      const machinePercent = percent(after.machineBusy - before.machineBusy);
      const postgresPercent = percent(postgresTicks);
      const namedPercent = named.reduce((sum, g) => sum + g.percent, 0);
      return {
        seconds,
        groups: named,
        postgresPercent,
        machinePercent,
        otherPercent: Math.max(0, machinePercent - namedPercent - postgresPercent),
      };
    },
  };
}

/** `server 95 %, load generator 40 %, postgres 50 %, everything else 5 %; machine 190 % of 200 %`. */
export function cpuLine(report: CpuReport): string {
  const parts = report.groups.map((g) => `${g.name} ${Math.round(g.percent)} %`);
  parts.push(`postgres ${Math.round(report.postgresPercent)} %`);
  parts.push(`everything else ${Math.round(report.otherPercent)} %`);
  const busy =
    report.otherPercent > BUSY_OTHER_PERCENT
      ? ` -- BUSY MACHINE: other work took ${Math.round(report.otherPercent)} % of a core, the figures are pessimistic`
      : '';
  return `CPU over ${report.seconds.toFixed(1)} s (% of one core): ${parts.join(', ')}; machine ${Math.round(report.machinePercent)} % of ${cpus().length * 100} %${busy}`;
}

/** Every descendant of `pid` (children, grandchildren, ...), from /proc. */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** CPU milliseconds a group used over the report's window. */
export function cpuMsOf(report: CpuReport, name: string): number {
  const group = report.groups.find((g) => g.name === name);
  return group ? (group.percent / 100) * report.seconds * 1000 : Number.NaN;
}

/** CPU milliseconds (user + system) `pid` has used so far, or NaN when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
  } catch {
    return Number.NaN;
  }
}
