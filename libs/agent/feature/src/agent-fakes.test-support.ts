import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type HeartbeatClient } from '@stratavore/api-client';
import {
  type HeartbeatAnswer,
  type HeartbeatCounters,
  type HeartbeatRequest,
  heartbeatRequestSchema,
} from '@stratavore/contracts';
import { type ManualClock } from '@stratavore/core';
import { type ClaudeSandbox, ClaudeStandIn, createClaudeSandbox } from '@stratavore/testing';

import { type AgentLogger } from './agent-logger';
import { type ChildExit, type ChildLauncher, type RunningChild } from './child-process';
import { type ResourceSample, type ResourceSampler } from './process-tree-sampler';
import { type Scheduler } from './scheduler';
import { type UsageSource } from './usage-source';

/** Lets every pending promise callback run (they are all microtasks in these fakes). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly delay: number;
  readonly callback: () => void;
}

/** Fake time: timers fire only when the test moves the clock. */
export class ManualScheduler implements Scheduler {
  private timers: Timer[] = [];
  private nextId = 1;
  /** Every delay asked for, in order. */
  readonly requestedDelays: number[] = [];

  constructor(private readonly clock: ManualClock) {}

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = this.setTimer(ms, resolve);
      signal?.addEventListener(
        'abort',
        () => {
          cancel();
          resolve();
        },
        { once: true },
      );
    });
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer = { id: this.nextId++, at: this.clock.now().getTime() + ms, delay: ms, callback };
    this.requestedDelays.push(ms);
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t.id !== timer.id);
    };
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Fires due timers one by one, letting the code react, until `done()` or no timer is left. */
  async runUntil(done: () => boolean, maxTimers = 1_000): Promise<void> {
    await settle();
    for (let fired = 0; !done(); fired++) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (next === undefined) throw new Error('runUntil: no timer left and the condition is false');
      if (fired >= maxTimers) throw new Error(`runUntil: still false after ${maxTimers} timers`);
      this.timers = this.timers.filter((t) => t.id !== next.id);
      if (next.at > this.clock.now().getTime()) this.clock.set(new Date(next.at));
      next.callback();
      await settle();
    }
  }
}

export type ScriptedAnswer = HeartbeatAnswer | Error | Promise<HeartbeatAnswer>;

/**
 * Answers heartbeats from a script, one entry per call; a call past the end of the script is
 * recorded as unexpected (and answered with an error) so `assertConsumed` fails the test.
 */
export class ScriptedHeartbeatClient implements HeartbeatClient {
  readonly bodies: HeartbeatRequest[] = [];
  readonly unexpected: HeartbeatRequest[] = [];
  private inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly script: ScriptedAnswer[] | ((body: HeartbeatRequest) => ScriptedAnswer),
  ) {}

  async sendHeartbeat(body: HeartbeatRequest): Promise<HeartbeatAnswer> {
    this.bodies.push(body);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const next = typeof this.script === 'function' ? this.script(body) : this.script.shift();
      if (next === undefined) {
        this.unexpected.push(body);
        throw new Error(`unexpected heartbeat seq ${body.seq}`);
      }
      if (next instanceof Error) throw next;
      return await next;
    } finally {
      this.inFlight--;
    }
  }

  assertConsumed(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`unexpected heartbeats: ${this.unexpected.map((b) => b.seq).join(', ')}`);
    }
    if (Array.isArray(this.script) && this.script.length > 0) {
      throw new Error(`${this.script.length} scripted answers were never asked for`);
    }
  }
}

/** A child that exits when told to, or on signals as configured. */
export class FakeChild implements RunningChild {
  readonly signals: string[] = [];
  readonly exited: Promise<ChildExit>;
  private resolveExit!: (exit: ChildExit) => void;
  private done = false;

  constructor(
    readonly pid: number,
    private readonly ignoresSigterm = false,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  signalGroup(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.done) throw new Error(`${signal} sent to a child that already exited`);
    this.signals.push(signal);
    if (signal === 'SIGKILL' || !this.ignoresSigterm) this.exit({ code: null, signal });
  }

  exit(exit: ChildExit): void {
    this.done = true;
    this.resolveExit(exit);
  }
}

export class FakeLauncher implements ChildLauncher {
  readonly launched: Array<readonly string[]> = [];

  constructor(private readonly child: FakeChild | Error) {}

  launch(command: readonly string[]): Promise<RunningChild> {
    this.launched.push(command);
    if (this.launched.length > 1) throw new Error('launched twice');
    return this.child instanceof Error ? Promise.reject(this.child) : Promise.resolve(this.child);
  }
}

export class FixedSampler implements ResourceSampler {
  constructor(private readonly sample_: ResourceSample = { cpuPercent: 1.5, memoryBytes: 4096 }) {}

  sample(): Promise<ResourceSample> {
    return Promise.resolve(this.sample_);
  }
}

/** Counters the test raises as if the agent CLI had used tokens. */
export class GrowingUsage implements UsageSource {
  current: HeartbeatCounters = {
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
  };

  add(inputTokens: number, outputTokens: number): void {
    this.current = {
      ...this.current,
      inputTokens: this.current.inputTokens + inputTokens,
      outputTokens: this.current.outputTokens + outputTokens,
    };
  }

  private readonly listeners: Array<() => void> = [];

  counters(): HeartbeatCounters {
    return { ...this.current };
  }

  sessionId(): string | null {
    return null;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** As if Claude Code's hooks said it waits for a person now. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }
}

export class RecordingLogger implements AgentLogger {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];

  info(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', message, fields });
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', message, fields });
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', message, fields });
  }
}

/** A transcript upload the recording server received. */
export interface RecordedTranscript {
  readonly sessionId: string;
  readonly kind: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
  readonly sha256: string;
}

const TRANSCRIPT_PATH = /^\/api\/v1\/sessions\/([^/]+)\/transcripts\/([^/]+)$/;

/**
 * Plays heartbeat-ingest over real HTTP: validates and keeps every body, always answers
 * `continue` with `intervalMs`. As the daemon does on the same port, it also takes transcript
 * uploads (`PUT /api/v1/sessions/:id/transcripts/:kind`): kept whole in `transcripts`, answered
 * with their metadata.
 */
export async function startRecordingIngest(intervalMs: number): Promise<{
  url: string;
  bodies: HeartbeatRequest[];
  transcripts: RecordedTranscript[];
  stop(): Promise<void>;
}> {
  const bodies: HeartbeatRequest[] = [];
  const transcripts: RecordedTranscript[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const transcript = req.method === 'PUT' ? TRANSCRIPT_PATH.exec(req.url ?? '') : null;
      if (transcript) {
        const bytes = Buffer.concat(chunks);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const kind = decodeURIComponent(transcript[2] ?? '');
        transcripts.push({
          sessionId: decodeURIComponent(transcript[1] ?? ''),
          kind,
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          bytes,
          sha256,
        });
        const lines = bytes.toString('latin1').split('\n').length - (bytes.at(-1) === 0x0a ? 1 : 0);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: kind === 'main' ? 'main' : 'subagent',
            agentId: kind === 'main' ? null : kind.slice('subagent-'.length),
            size: bytes.length,
            lineCount: bytes.length === 0 ? 0 : lines,
            sha256,
            uploadedAt: new Date().toISOString(),
            uploadedBy: '00000000-0000-4000-8000-000000000000',
          }),
        );
        return;
      }
      bodies.push(heartbeatRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString())));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ desiredState: 'continue', intervalMs }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    transcripts,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a suite around the real Claude Code CLI gets fresh for each test. */
export interface ClaudeCliSuite {
  readonly standIn: ClaudeStandIn;
  readonly sandbox: ClaudeSandbox;
  /** An empty directory for the agent's logs. */
  readonly logDir: string;
}

/**
 * Registers the hooks of a suite around the real Claude Code CLI: before each test a stand-in
 * Messages API for `model`, a Claude sandbox and a log directory (`<logPrefix>` in the temporary
 * directory); after each, all three are gone. Read the fields inside tests.
 */
export function useClaudeCliSuite(model: string, logPrefix: string): ClaudeCliSuite {
  let current: ClaudeCliSuite | undefined;
  beforeEach(async () => {
    current = {
      standIn: await ClaudeStandIn.start({ model }),
      sandbox: await createClaudeSandbox(),
      logDir: await mkdtemp(join(tmpdir(), logPrefix)),
    };
  });
  afterEach(async () => {
    if (!current) return;
    await current.standIn.close();
    await current.sandbox.remove();
    await rm(current.logDir, { recursive: true, force: true });
    current = undefined;
  });
  const started = (): ClaudeCliSuite => {
    if (!current) throw new Error('the Claude CLI suite has no test running');
    return current;
  };
  return {
    get standIn() {
      return started().standIn;
    },
    get sandbox() {
      return started().sandbox;
    },
    get logDir() {
      return started().logDir;
    },
  };
}
