import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseStat, ProcfsTreeSampler } from './process-tree-sampler';

/** A /proc/<pid>/stat line: utime..cstime are fields 14..17. */
function statLine(
  pid: number,
  name: string,
  ppid: number,
  utime: number,
  stime = 0,
  cutime = 0,
): string {
  const middle = Array(9).fill('0').join(' '); // fields 5..13
  return `${pid} (${name}) S ${ppid} ${middle} ${utime} ${stime} ${cutime} 0 20 0 1 0\n`;
}

describe('ProcfsTreeSampler', () => {
  let proc: string;

  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), 'fake-proc-'));
  });

  afterEach(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  /** `/proc/<pid>/stat` and a `status` with `VmRSS` (kB); `null`: no `VmRSS` (kernel thread, zombie). */
  async function processEntry(pid: number, stat: string, rssKb: number | null): Promise<void> {
    await mkdir(join(proc, String(pid)), { recursive: true });
    await writeFile(join(proc, String(pid), 'stat'), stat);
    const rss = rssKb === null ? '' : `VmRSS:\t${String(rssKb).padStart(8)} kB\n`;
    await writeFile(
      join(proc, String(pid), 'status'),
      `Name:\tx\nState:\tS (sleeping)\nVmPeak:\t   99999 kB\n${rss}Threads:\t1\n`,
    );
  }

  it('reads the process alone the first time, then the whole tree with CPU % from tick deltas', async () => {
    let now = 0;
    const sampler = new ProcfsTreeSampler({ procRoot: proc, nowMs: () => now });
    await processEntry(10, statLine(10, 'sh -c (x)', 1, 100), 400);
    await processEntry(11, statLine(11, 'node', 10, 0), 800);
    await processEntry(12, statLine(12, 'grandchild', 11, 0), 200);
    await processEntry(20, statLine(20, 'unrelated', 1, 9_999), 10_000);

    expect(await sampler.sample(10)).toEqual({ cpuPercent: 0, memoryBytes: 400 * 1024 });

    now = 2_000; // 2 s later the tree used 150 more ticks (USER_HZ 100) = 1.5 s of CPU
    await processEntry(11, statLine(11, 'node', 10, 50, 50), 800);
    await processEntry(12, statLine(12, 'grandchild', 11, 50), 200);
    expect(await sampler.sample(10)).toEqual({ cpuPercent: 75, memoryBytes: 1_400 * 1024 });

    now = 4_000; // the grandchild ended: its ticks moved to its parent's cutime, nothing was lost
    await rm(join(proc, '12'), { recursive: true });
    await processEntry(11, statLine(11, 'node', 10, 50, 50, 50), 800);
    expect(await sampler.sample(10)).toEqual({ cpuPercent: 0, memoryBytes: 1_200 * 1024 });
  });

  it('starts again from the process alone for another pid', async () => {
    let now = 0;
    const sampler = new ProcfsTreeSampler({ procRoot: proc, nowMs: () => now });
    await processEntry(10, statLine(10, 'first', 1, 100), 400);
    await processEntry(30, statLine(30, 'second', 1, 500), 100);
    await processEntry(31, statLine(31, 'child', 30, 0), 300);
    await sampler.sample(10);

    now = 1_000;
    expect(await sampler.sample(30)).toEqual({ cpuPercent: 0, memoryBytes: 100 * 1024 });
  });

  it('counts no memory for a process without VmRSS (a zombie)', async () => {
    await processEntry(10, statLine(10, 'zombie', 1, 100), null);
    expect(await new ProcfsTreeSampler({ procRoot: proc }).sample(10)).toEqual({
      cpuPercent: 0,
      memoryBytes: 0,
    });
  });

  it('reports nothing for a pid that is gone', async () => {
    const sampler = new ProcfsTreeSampler({ procRoot: proc });
    expect(await sampler.sample(99)).toEqual({ cpuPercent: 0, memoryBytes: 0 });
    expect(await sampler.sample(99)).toEqual({ cpuPercent: 0, memoryBytes: 0 });
  });

  it('measures a real process from /proc', async () => {
    const sampler = new ProcfsTreeSampler();
    const first = await sampler.sample(process.pid);
    expect(first.cpuPercent).toBe(0);
    expect(first.memoryBytes).toBeGreaterThan(1024 * 1024);
    const second = await sampler.sample(process.pid);
    expect(second.memoryBytes).toBeGreaterThan(1024 * 1024);
  });

  it('parses a stat line whose command name holds spaces and parentheses', () => {
    expect(parseStat(statLine(5, 'a) (b', 4, 7, 3))).toEqual({ ppid: 4, ticks: 10 });
  });
});
