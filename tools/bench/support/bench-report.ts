/**
 * What every bench prints: latency summaries, and one table of figures with their targets and a
 * verdict (`ok` / `MISS`). A missed target is reported, not an error: the figures are what this
 * machine measured; `BENCH_STRICT=1` turns a miss into exit code 1.
 */
import { cpus, loadavg } from 'node:os';

/** Latency percentiles of one series, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The nearest-rank percentile of an ascending series (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

export function ms(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : '-';
}

export function perSecond(value: number, unit = '/s'): string {
  return Number.isFinite(value) ? `${Math.round(value).toLocaleString('en')}${unit}` : '-';
}

/** `p50 1.2 / p95 2.3 / p99 4.5 / max 9.9 ms`. */
export function latencyLine(s: LatencySummary): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  return `p50 ${f(s.p50)} / p95 ${f(s.p95)} / p99 ${f(s.p99)} / max ${f(s.max)} ms (n=${s.count})`;
}

/** One line of the table; `pass` null for a figure without a target. */
export interface BenchRow {
  readonly measure: string;
  readonly figure: string;
  readonly target?: string;
  readonly pass?: boolean | null;
}

/** Prints the table under a title and returns how many targets were missed. */
export function printTable(title: string, rows: readonly BenchRow[]): number {
  const cells = rows.map((r) => [r.measure, r.figure, r.target ?? '-']);
  const widths = [0, 1, 2].map((c) =>
    Math.max(8, ...cells.map((row) => row[c]!.length), ['measure', 'figure', 'target'][c]!.length),
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => value.padEnd(widths[i]!)).join(' | ');
  console.log(`\n${title}`);
  console.log(`${line(['measure', 'figure', 'target'])} | result`);
  console.log(`${widths.map((w) => '-'.repeat(w)).join('-|-')}-|-------`);
  rows.forEach((row, i) => {
    const verdict = row.pass === undefined || row.pass === null ? '' : row.pass ? 'ok' : 'MISS';
    console.log(`${line(cells[i]!)} | ${verdict}`);
  });
  return rows.filter((r) => r.pass === false).length;
}

/** Exit code for a finished bench: 1 only for misses under `BENCH_STRICT=1`. */
export function verdictExitCode(missed: number): number {
  if (missed > 0) console.log(`\n${missed} target(s) missed on this machine`);
  return missed > 0 && process.env.BENCH_STRICT === '1' ? 1 : 0;
}

/**
 * Runs a bench's `main` with a watchdog, then exits: 0, 1 (a missed target under
 * BENCH_STRICT=1) or 2 (the bench failed or overran). `main` cleans up in its own `finally`;
 * the watchdog runs `onAbort` (process and database cleanup) before exiting on overrun.
 */
export function runBench(options: {
  readonly name: string;
  readonly deadlineMs: number;
  readonly main: () => Promise<number>;
  readonly onAbort?: () => Promise<void>;
}): void {
  const abort = async (why: string) => {
    console.error(`${options.name} bench: ${why}, aborting`);
    await Promise.race([
      options.onAbort?.().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 20_000)),
    ]);
    process.exit(2);
  };
  const watchdog = setTimeout(() => {
    void abort(`exceeded ${Math.round(options.deadlineMs / 1000)} s`);
  }, options.deadlineMs);
  watchdog.unref();
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min), Node ${process.version}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void abort(`got ${signal}`));
  }
  options
    .main()
    .then((missed) => process.exit(verdictExitCode(missed)))
    .catch((error: unknown) => {
      console.error(`${options.name} bench failed:`, error);
      process.exit(2);
    });
}
