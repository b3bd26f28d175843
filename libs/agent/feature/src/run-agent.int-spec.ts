import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type HeartbeatRequest, heartbeatRequestSchema } from '@stratavore/contracts';
import { waitFor } from '@stratavore/testing';

import { type AgentConfig } from './agent-config';
import { RecordingLogger } from './agent-fakes.test-support';
import { childLogFile, runAgent } from './run-agent';
import { type AgentOutcome } from './runner-supervisor';

const RUNNER_ID = '33333333-3333-4333-8333-333333333333';
const TOKEN = 'runner-token-under-test';
const INTERVAL_MS = 200;

interface Received {
  readonly at: number;
  readonly auth: string | undefined;
  readonly body: HeartbeatRequest;
  readonly answered: number;
}

/** Plays heartbeat-ingest: records every heartbeat and answers as `mode` says. */
class FakeIngest {
  readonly received: Received[] = [];
  mode: 'continue' | 'unavailable' | 'stop' = 'continue';
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = heartbeatRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString()));
        const status = this.mode === 'unavailable' ? 503 : 200;
        this.received.push({
          at: Date.now(),
          auth: req.headers.authorization,
          body,
          answered: status,
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          status === 503
            ? JSON.stringify({ statusCode: 503, code: 'Unavailable', message: 'restarting' })
            : JSON.stringify({ desiredState: this.mode, intervalMs: INTERVAL_MS }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  bodies(): HeartbeatRequest[] {
    return this.received.map((r) => r.body);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const CHATTY_CHILD = [
  process.execPath,
  '-e',
  "console.log('child says hello'); console.error('child warns'); setInterval(() => console.log('tick'), 50);",
];
const STUBBORN_CHILD = [
  process.execPath,
  '-e',
  "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);",
];

describe('runAgent with a real child and a fake heartbeat-ingest', () => {
  let ingest: FakeIngest;
  let logDir: string;
  let config: AgentConfig;

  beforeEach(async () => {
    ingest = new FakeIngest();
    await ingest.start();
    logDir = await mkdtemp(join(tmpdir(), 'stratavore-agent-'));
    config = {
      STRATAVORE_RUNNER_ID: RUNNER_ID,
      STRATAVORE_RUNNER_TOKEN: TOKEN,
      STRATAVORE_HEARTBEAT_URL: ingest.url,
      STRATAVORE_LOG_DIR: logDir,
      STRATAVORE_AGENT_LOG_LEVEL: 'info',
    };
  });

  afterEach(async () => {
    await ingest.stop();
    await rm(logDir, { recursive: true, force: true });
  });

  it('reports a running child, rides out a 503 outage and stops the child when told to', async () => {
    const logger = new RecordingLogger();
    const run = runAgent({
      args: {
        intervalMs: INTERVAL_MS,
        stopTimeoutMs: 5_000,
        finalReportTimeoutMs: 10_000,
        command: CHATTY_CHILD,
      },
      config,
      logger,
      env: { ...process.env, STRATAVORE_RUNNER_TOKEN: TOKEN },
    });
    let outcome: AgentOutcome | undefined;
    void run.then((o) => (outcome = o));

    const first = await waitFor(() => ingest.received[0], { description: 'the first heartbeat' });
    expect(first.auth).toBe(`Bearer ${TOKEN}`);
    expect(first.body).toMatchObject({
      runnerId: RUNNER_ID,
      seq: 1,
      status: 'running',
      agentVersion: '0.1.0',
    });
    const pid = first.body.pid as number;
    expect(pid).toBeGreaterThan(0);
    expect(first.body.memoryBytes).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(true);

    await waitFor(() => ingest.received.length >= 6, { description: 'six heartbeats' });
    const gaps = ingest.received
      .slice(1, 6)
      .map((r, i) => r.at - (ingest.received[i] as Received).at);
    const median = [...gaps].sort((a, b) => a - b)[2] as number;
    // Paced by the interval, not sent in a burst. No upper bound: a loaded machine may delay a
    // timer without the agent being wrong (the schedule itself is unit-tested with a fake clock).
    expect(median).toBeGreaterThanOrEqual(INTERVAL_MS * 0.75);

    ingest.mode = 'unavailable';
    await waitFor(() => ingest.received.filter((r) => r.answered === 503).length >= 3, {
      timeoutMs: 10_000,
      description: 'three heartbeats answered 503',
    });
    expect(isAlive(pid)).toBe(true);
    const beforeRecovery = ingest.received.length;
    ingest.mode = 'continue';
    await waitFor(() => ingest.received.slice(beforeRecovery).some((r) => r.answered === 200), {
      timeoutMs: 10_000,
      description: 'heartbeats to resume after the outage',
    });
    expect(isAlive(pid)).toBe(true);

    ingest.mode = 'stop';
    const result = await run;
    expect(isAlive(pid)).toBe(false);
    const finalBody = ingest.bodies().at(-1);
    expect(finalBody).toMatchObject({
      status: 'exited',
      pid,
      exit: { code: null, signal: 'SIGTERM' },
    });
    const seqs = ingest.bodies().map((b) => b.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(result).toMatchObject({
      exitCode: 143,
      finalReport: 'delivered',
      stopReason: 'desired-state',
    });
    expect(outcome).toBe(result);

    const log = await readFile(childLogFile(config), 'utf8');
    expect(log).toContain('child says hello');
    expect(log).toContain('child warns');
    expect(log).toContain('tick');
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it('passes the environment on without the token', async () => {
    const result = await runAgent({
      args: {
        intervalMs: INTERVAL_MS,
        stopTimeoutMs: 1_000,
        finalReportTimeoutMs: 5_000,
        command: [
          process.execPath,
          '-e',
          "console.log('token=' + (process.env.STRATAVORE_RUNNER_TOKEN ?? 'absent') + ' id=' + process.env.STRATAVORE_RUNNER_ID); process.exit(4)",
        ],
      },
      config,
      logger: new RecordingLogger(),
      env: { ...process.env, STRATAVORE_RUNNER_TOKEN: TOKEN, STRATAVORE_RUNNER_ID: RUNNER_ID },
    });

    expect(result).toMatchObject({
      exitCode: 4,
      exit: { code: 4, signal: null },
      finalReport: 'delivered',
    });
    expect(await readFile(childLogFile(config), 'utf8')).toContain(`token=absent id=${RUNNER_ID}`);
    expect(ingest.bodies().at(-1)).toMatchObject({
      status: 'exited',
      exit: { code: 4, signal: null },
    });
  });

  it('SIGKILLs a child that ignores SIGTERM after the stop timeout', async () => {
    const stopTimeoutMs = 500;
    const stop = new AbortController();
    const run = runAgent({
      args: {
        intervalMs: INTERVAL_MS,
        stopTimeoutMs,
        finalReportTimeoutMs: 5_000,
        command: STUBBORN_CHILD,
      },
      config,
      logger: new RecordingLogger(),
      stopSignal: stop.signal,
    });
    const first = await waitFor(() => ingest.received[0], { description: 'the first heartbeat' });
    const pid = first.body.pid as number;
    await waitFor(async () => (await readFile(childLogFile(config), 'utf8')).includes('up'), {
      description: 'the child to install its SIGTERM handler',
    });

    const stoppedAt = Date.now();
    stop.abort();
    const result = await run;

    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(stopTimeoutMs - 20);
    expect(isAlive(pid)).toBe(false);
    expect(result).toMatchObject({
      exitCode: 137,
      exit: { code: null, signal: 'SIGKILL' },
      stopReason: 'agent-signal',
    });
    expect(ingest.bodies().at(-1)).toMatchObject({ status: 'exited', exit: { signal: 'SIGKILL' } });
    expect(await readFile(childLogFile(config), 'utf8')).toContain('ignoring SIGTERM');
  });
});
