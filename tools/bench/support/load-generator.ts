/**
 * HTTP load from a separate process, so the load never shares an event loop (nor a garbage
 * collector) with the server it measures. `runLoad` forks `load-worker.ts`, which sends the
 * requests over keep-alive connections (`http.Agent`) and answers with a summary.
 *
 * Open loop (`rate`): request i is due at start + i / rate whatever happened to the others, and
 * its latency counts from that due time, so a stalled server shows in the figures instead of
 * silently lowering the offered load (no coordinated omission). Closed loop (`concurrency`):
 * that many requests in flight back to back, for the maximum sustainable throughput.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

import { type LatencySummary } from './bench-report';

/** One request the generator can send; requests go round-robin over the targets. */
export interface LoadTarget {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * JSON text; every `"__SEQ__"` becomes a counter per target (1, 2, ...) and `"__SENT_AT__"` the
   * send time in ISO form (quotes included in the placeholder for SEQ: it becomes a number).
   */
  readonly body?: string;
}

export interface LoadSpec {
  /** `http://127.0.0.1:7411`. */
  readonly baseUrl: string;
  readonly targets: readonly LoadTarget[];
  /** Open loop at this many requests per second, or closed loop with `concurrency`. */
  readonly load: { readonly rate: number } | { readonly concurrency: number };
  /** Sent but not counted, before the measured window. */
  readonly warmupMs: number;
  /** The measured window. */
  readonly durationMs: number;
  /** Connections kept open at most (default 256). */
  readonly maxSockets?: number;
  /** A request not answered within this is an error (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** The first value of `__SEQ__` per target (default 1). */
  readonly seqStart?: number;
}

export interface LoadResult {
  readonly mode: 'open' | 'closed';
  /** Requests per second asked for (open loop), or the concurrency (closed loop). */
  readonly offered: number;
  /** Requests due (open) or started (closed) in the window. */
  readonly sent: number;
  /** Answered with 2xx, in the window. */
  readonly ok: number;
  /** Everything else in the window: `status 401`, `timeout`, `ECONNRESET`, ... -> count. */
  readonly errors: Readonly<Record<string, number>>;
  /** 2xx answers that arrived within the window, per second (whenever they were sent). */
  readonly achievedRate: number;
  /** Requests the server answered (any status) over the whole run, warm-up included. */
  readonly answered: number;
  /** From the due time (open loop) or the send (closed loop) to the last byte, 2xx only. */
  readonly latency: LatencySummary;
  /** From the moment the request was handed to the socket pool to the last byte, 2xx only. */
  readonly serviceLatency: LatencySummary;
  /** How late the generator itself sent requests (open loop): its own p99 and max lag. */
  readonly generatorLagP99Ms: number;
  readonly generatorLagMaxMs: number;
  /** Connections opened over the run. */
  readonly sockets: number;
  /** CPU the generator process used over the window, % of one core. */
  readonly generatorCpuPercent: number;
}

const running = new Set<ChildProcess>();

/** Kills every load generator still running (a bench's cleanup on failure or abort). */
export function stopLoadGenerators(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Runs the load in a child process and resolves with its summary. The child exits with it; it
 * is killed when the run overruns its own time by 30 s, or by {@link stopLoadGenerators}. The
 * child also exits when this process dies (its IPC channel closes).
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = fork(join(__dirname, 'load-worker.ts'), [], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(child);
      if (child.exitCode === null) child.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error('the load generator overran'))),
      spec.warmupMs + spec.durationMs + (spec.timeoutMs ?? 10_000) + 30_000,
    );
    child.on('message', (message: { result?: LoadResult; error?: string }) => {
      if (message.result) finish(() => resolve(revive(message.result!)));
      else finish(() => reject(new Error(`load generator: ${message.error ?? 'no result'}`)));
    });
    child.on('error', (error) => finish(() => reject(error)));
    child.on('exit', (code, sig) =>
      finish(() =>
        reject(new Error(`the load generator exited (${code ?? sig}) without a result`)),
      ),
    );
    child.send(spec);
  });
}

/**
 * Waits until `probe` (one request like the load's) completes within `withinMs`: after an
 * overloaded open loop the server is still working off requests the generator gave up on, which
 * would distort the next phase. Resolves with the time waited, at most about `timeoutMs` (a
 * server that never answers that fast is measured as it is).
 */
export async function settle(
  probe: () => Promise<unknown>,
  { withinMs = 250, timeoutMs = 60_000 }: { withinMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const sent = Date.now();
    await probe().catch(() => undefined);
    if (Date.now() - sent <= withinMs) return Date.now() - started;
    if (Date.now() - started > timeoutMs) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** IPC carries JSON, where NaN (a summary of no samples) became null: back to NaN. */
function revive(result: LoadResult): LoadResult {
  const summary = (s: LatencySummary): LatencySummary =>
    Object.fromEntries(
      Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : Number.NaN]),
    ) as unknown as LatencySummary;
  return {
    ...result,
    latency: summary(result.latency),
    serviceLatency: summary(result.serviceLatency),
    generatorLagP99Ms: result.generatorLagP99Ms ?? Number.NaN,
    generatorLagMaxMs: result.generatorLagMaxMs ?? Number.NaN,
  };
}
