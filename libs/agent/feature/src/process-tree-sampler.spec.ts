import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseStat, ProcfsTreeSampler } from './process-tree-sampler';

/** A /proc/<pid>/stat line: utime..cstime are fields 14..17. */
function statLine(pid: number, name: string, ppid: number, utime: number, stime = 0): string {
  const middle = Array(9).fill('0').join(' '); // fields 5..13
  return `${pid} (${name}) S ${ppid} ${middle} ${utime} ${stime} 0 0 20 0 1 0\n`;
}

describe('ProcfsTreeSampler', () => {
  let proc: string;

  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), 'fake-proc-'));
  });

  afterEach(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  async function processEntry(pid: number, stat: string, residentPages: number): Promise<void> {
    await mkdir(join(proc, String(pid)), { recursive: true });
    await writeFile(join(proc, String(pid), 'stat'), stat);
    await writeFile(join(proc, String(pid), 'statm'), `999 ${residentPages} 10 1 0 5 0\n`);
  }

  it('sums the whole tree and computes CPU % from tick deltas over wall time', async () => {
    let now = 0;
    const sampler = new ProcfsTreeSampler({
      procRoot: proc,
      clockTicksPerSecond: 100,
      pageSizeBytes: 4096,
      nowMs: () => now,
    });
    await processEntry(10, statLine(10, 'sh -c (x)', 1, 100), 100);
    await processEntry(11, statLine(11, 'node', 10, 50, 50), 200);
    await processEntry(12, statLine(12, 'grandchild', 11, 0), 50);
    await processEntry(20, statLine(20, 'unrelated', 1, 9_999), 10_000);

    expect(await sampler.sample(10)).toEqual({ cpuPercent: 0, memoryBytes: 350 * 4096 });

    now = 2_000; // 2 s later the tree used 150 more ticks = 1.5 s of CPU
    await processEntry(12, statLine(12, 'grandchild', 11, 150), 50);
    expect(await sampler.sample(10)).toEqual({ cpuPercent: 75, memoryBytes: 350 * 4096 });
  });

  it('reports nothing for a pid that is gone', async () => {
    const sampler = new ProcfsTreeSampler({
      procRoot: proc,
      clockTicksPerSecond: 100,
      pageSizeBytes: 4096,
    });
    expect(await sampler.sample(99)).toEqual({ cpuPercent: 0, memoryBytes: 0 });
  });

  it('parses a stat line whose command name holds spaces and parentheses', () => {
    expect(parseStat(statLine(5, 'a) (b', 4, 7, 3))).toEqual({ ppid: 4, ticks: 10 });
  });
});
