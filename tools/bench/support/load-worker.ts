/**
 * The load generator's child process (see load-generator.ts): receives a LoadSpec over IPC,
 * sends the requests, answers `{ result }` or `{ error }` and exits. Exits at once when its
 * parent goes away.
 */
import { appendFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import { summarize } from './bench-report';
import { type LoadResult, type LoadSpec, type LoadTarget } from './load-generator';

interface Outcome {
  /** `ok`, `status 503`, `timeout`, `ECONNRESET`, ... */
  readonly kind: string;
  readonly sentAt: number;
  readonly endedAt: number;
}

interface Prepared {
  readonly target: LoadTarget;
  seq: number;
}

function render(template: string, seq: number): string {
  return template
    .replaceAll('"__SEQ__"', String(seq))
    .replace('__SENT_AT__', new Date().toISOString());
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const base = new URL(spec.baseUrl);
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const agent = new Agent({ keepAlive: true, maxSockets: spec.maxSockets ?? 256 });
  const sockets = new WeakSet<Socket>();
  let socketCount = 0;
  const targets: Prepared[] = spec.targets.map((target) => ({
    target,
    seq: spec.seqStart ?? 1,
  }));
  if (targets.length === 0) throw new Error('no targets');

  const send = (prepared: Prepared): Promise<Outcome> =>
    new Promise<Outcome>((resolve) => {
      const { target } = prepared;
      const body = target.body === undefined ? undefined : render(target.body, prepared.seq++);
      const sentAt = performance.now();
      let done = false;
      // From the send, not from the socket: a request queued for a connection counts too.
      const timer = setTimeout(() => {
        end('timeout');
        req.destroy();
      }, timeoutMs);
      const end = (kind: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ kind, sentAt, endedAt: performance.now() });
      };
      const req = request(
        {
          agent,
          hostname: base.hostname,
          port: base.port,
          path: target.path,
          method: target.method,
          headers: {
            ...target.headers,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            end(status >= 200 && status < 300 ? 'ok' : `status ${status}`);
          });
          res.on('error', (error: NodeJS.ErrnoException) => end(error.code ?? error.message));
        },
      );
      req.on('socket', (socket: Socket) => {
        if (!sockets.has(socket)) {
          sockets.add(socket);
          socketCount++;
        }
      });
      req.on('error', (error: NodeJS.ErrnoException) => end(error.code ?? error.message));
      req.end(body);
    });

  const latencies: number[] = [];
  const timeline = process.env.BENCH_TIMELINE ? ([] as string[]) : undefined;
  const serviceLatencies: number[] = [];
  const lags: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let okInWindow = 0;
  let answered = 0;
  const t0 = performance.now() + 20;
  const windowStart = t0 + spec.warmupMs;
  const windowEnd = windowStart + spec.durationMs;
  const finished = (outcome: Outcome) => {
    if (outcome.kind.startsWith('status') || outcome.kind === 'ok') answered++;
    if (outcome.kind === 'ok' && outcome.endedAt >= windowStart && outcome.endedAt < windowEnd) {
      okInWindow++;
    }
  };
  const record = (outcome: Outcome, from: number) => {
    sent++;
    if (outcome.kind === 'ok') {
      ok++;
      latencies.push(outcome.endedAt - from);
      serviceLatencies.push(outcome.endedAt - outcome.sentAt);
      timeline?.push(`${(from - windowStart).toFixed(1)} ${(outcome.endedAt - from).toFixed(2)}`);
    } else {
      errors[outcome.kind] = (errors[outcome.kind] ?? 0) + 1;
    }
  };

  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  const cpuStartTimer = setTimeout(
    () => (cpuAtStart = process.cpuUsage()),
    windowStart - performance.now(),
  );
  const cpuEndTimer = setTimeout(
    () => (cpuAtEnd = process.cpuUsage(cpuAtStart)),
    windowEnd - performance.now(),
  );

  let mode: 'open' | 'closed';
  let offered: number;
  if ('rate' in spec.load) {
    mode = 'open';
    offered = spec.load.rate;
    const interval = 1000 / spec.load.rate;
    const total = Math.floor((spec.warmupMs + spec.durationMs) / interval);
    const inFlight = new Set<Promise<void>>();
    await new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        const now = performance.now();
        while (i < total) {
          const due = t0 + i * interval;
          if (due > now) break;
          const prepared = targets[i % targets.length]!;
          const counted = due >= windowStart && due < windowEnd;
          if (counted) lags.push(now - due);
          const pending = send(prepared).then((outcome) => {
            finished(outcome);
            if (counted) record(outcome, due);
          });
          inFlight.add(pending);
          void pending.finally(() => inFlight.delete(pending));
          i++;
        }
        if (i < total) {
          setTimeout(tick, Math.max(0, Math.floor(t0 + i * interval - performance.now())));
        } else {
          void Promise.all(inFlight).then(() => resolve());
        }
      };
      setTimeout(tick, Math.max(0, t0 - performance.now()));
    });
  } else {
    mode = 'closed';
    offered = spec.load.concurrency;
    let next = 0;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 - performance.now())));
    await Promise.all(
      Array.from({ length: spec.load.concurrency }, async () => {
        while (performance.now() < windowEnd) {
          const prepared = targets[next++ % targets.length]!;
          const outcome = await send(prepared);
          finished(outcome);
          if (outcome.sentAt >= windowStart && outcome.sentAt < windowEnd) {
            record(outcome, outcome.sentAt);
          }
        }
      }),
    );
  }
  if (timeline) appendFileSync(process.env.BENCH_TIMELINE!, `# ${mode}\n${timeline.join('\n')}\n`);
  clearTimeout(cpuStartTimer);
  clearTimeout(cpuEndTimer);
  agent.destroy();
  const cpu = cpuAtEnd ?? process.cpuUsage(cpuAtStart);
  const lagSummary = summarize(lags);
  return {
    mode,
    offered,
    sent,
    ok,
    errors,
    achievedRate: okInWindow / (spec.durationMs / 1000),
    answered,
    latency: summarize(latencies),
    serviceLatency: summarize(serviceLatencies),
    generatorLagP99Ms: mode === 'open' ? lagSummary.p99 : 0,
    generatorLagMaxMs: mode === 'open' ? lagSummary.max : 0,
    sockets: socketCount,
    generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / spec.durationMs) * 100,
  };
}

process.on('disconnect', () => process.exit(1));
process.once('message', (spec: LoadSpec) => {
  run(spec).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ error: error instanceof Error ? error.message : String(error) }, () =>
        process.exit(1),
      ),
  );
});
