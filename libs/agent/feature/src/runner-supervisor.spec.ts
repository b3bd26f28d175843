import { ApiError, NetworkError } from '@stratavore/api-client';
import {
  type HeartbeatAnswer,
  type HeartbeatRequest,
  heartbeatRequestSchema,
} from '@stratavore/contracts';
import { ManualClock } from '@stratavore/core';

import { AgentErrorCode, AgentException } from './agent.exception';
import {
  FakeChild,
  FakeLauncher,
  FixedSampler,
  GrowingUsage,
  ManualScheduler,
  RecordingLogger,
  type ScriptedAnswer,
  ScriptedHeartbeatClient,
  settle,
} from './agent-fakes.test-support';
import { type AgentOutcome, RunnerSupervisor } from './runner-supervisor';

const RUNNER_ID = '11111111-1111-4111-8111-111111111111';
const INTERVAL = 1_000;
const CONTINUE: HeartbeatAnswer = { desiredState: 'continue', intervalMs: INTERVAL };
const STOP: HeartbeatAnswer = { desiredState: 'stop', intervalMs: INTERVAL };
const unavailable = () => new ApiError(503, 'HTTP_503', 'unavailable');
const unreachable = () => new NetworkError('unreachable', 'http://ingest/api/v1/heartbeat');

function setUp(options: {
  script: ScriptedAnswer[] | ((body: HeartbeatRequest) => ScriptedAnswer);
  child?: FakeChild | Error;
  random?: () => number;
  stopSignal?: AbortSignal;
  finalReportTimeoutMs?: number;
  onFirstHeartbeat?: () => void;
}) {
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  const scheduler = new ManualScheduler(clock);
  const client = new ScriptedHeartbeatClient(options.script);
  const child = options.child ?? new FakeChild(4242);
  const usage = new GrowingUsage();
  const logger = new RecordingLogger();
  const supervisor = new RunnerSupervisor(
    {
      runnerId: RUNNER_ID,
      command: ['claude', '-p', 'hi'],
      agentVersion: '0.1.0',
      intervalMs: INTERVAL,
      stopTimeoutMs: 10_000,
      finalReportTimeoutMs: options.finalReportTimeoutMs ?? 300_000,
      stopSignal: options.stopSignal,
      onFirstHeartbeat: options.onFirstHeartbeat,
    },
    {
      client,
      launcher: new FakeLauncher(child),
      sampler: new FixedSampler(),
      usage,
      clock,
      scheduler,
      random: options.random ?? (() => 0.5),
      logger,
    },
  );
  let outcome: AgentOutcome | undefined;
  const running = supervisor.run().then((result) => (outcome = result));
  return { clock, scheduler, client, child, usage, logger, running, outcome: () => outcome };
}

function expectValidBodies(bodies: readonly unknown[]): void {
  for (const body of bodies) expect(heartbeatRequestSchema.safeParse(body).error).toBeUndefined();
}

describe('RunnerSupervisor', () => {
  it('sends a first heartbeat at once, then one per interval, with increasing seq', async () => {
    const t = setUp({
      script: [CONTINUE, CONTINUE, { desiredState: 'continue', intervalMs: 2_500 }, CONTINUE],
    });
    await t.scheduler.runUntil(() => t.client.bodies.length === 4);

    expect(t.client.bodies.map((b) => [b.seq, b.status, b.pid, b.sentAt])).toEqual([
      [1, 'running', 4242, '2026-03-01T00:00:00.000Z'],
      [2, 'running', 4242, '2026-03-01T00:00:01.000Z'],
      [3, 'running', 4242, '2026-03-01T00:00:02.000Z'],
      // The answer's intervalMs is the control plane's lever and wins over --interval.
      [4, 'running', 4242, '2026-03-01T00:00:04.500Z'],
    ]);
    expect(t.client.bodies[0]).toMatchObject({ cpuPercent: 1.5, memoryBytes: 4096 });
    expectValidBodies(t.client.bodies);
    expect(t.child instanceof FakeChild && t.child.signals).toEqual([]);

    (t.child as FakeChild).exit({ code: 0, signal: null });
  });

  it('sends a heartbeat at once when the session changed (Claude waits), not on backoff', async () => {
    const t = setUp({ script: [CONTINUE, CONTINUE, unavailable(), CONTINUE, CONTINUE] });
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    await settle();
    // Half way through the pause, a hook says Claude waits for a person.
    t.clock.advance(400);
    t.usage.changed();
    await t.scheduler.runUntil(() => t.client.bodies.length === 2);
    expect(t.client.bodies.map((b) => b.sentAt)).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-01T00:00:00.400Z',
    ]);
    // Then the interval again, and a change during the backoff after a failure waits for it.
    await t.scheduler.runUntil(() => t.client.bodies.length === 3);
    expect(t.client.bodies[2]?.sentAt).toBe('2026-03-01T00:00:01.400Z');
    await settle();
    const backoffMs = t.scheduler.requestedDelays.at(-1) ?? 0;
    t.usage.changed();
    await t.scheduler.runUntil(() => t.client.bodies.length === 4);
    expect(Date.parse(t.client.bodies[3]?.sentAt ?? '')).toBe(
      Date.parse('2026-03-01T00:00:01.400Z') + backoffMs,
    );

    (t.child as FakeChild).exit({ code: 0, signal: null });
    await t.scheduler.runUntil(() => t.outcome() !== undefined);
    t.client.assertConsumed();
  });

  it('keeps the child running through failures, backs off, and loses no counters', async () => {
    const t = setUp({
      script: [CONTINUE, unavailable(), unreachable(), unavailable(), CONTINUE, CONTINUE],
      random: () => 0.5,
    });
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    t.usage.add(100, 10);
    await t.scheduler.runUntil(() => t.client.bodies.length === 3);
    t.usage.add(50, 5);
    await t.scheduler.runUntil(() => t.client.bodies.length === 6);

    expect(t.client.bodies.map((b) => b.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.client.bodies.map((b) => b.counters.inputTokens)).toEqual([
      0, 100, 100, 150, 150, 150,
    ]);
    // The first heartbeat delivered after the outage carries everything used during it.
    expect(t.client.bodies[4]?.counters).toEqual({
      inputTokens: 150,
      outputTokens: 15,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
    });
    // interval, then half of 1x, 2x, 4x the interval (random = 0.5), then the interval again.
    expect(t.scheduler.requestedDelays).toEqual([1_000, 500, 1_000, 2_000, 1_000, 1_000]);
    expect((t.child as FakeChild).signals).toEqual([]);
    expect(t.logger.lines.some((l) => l.message === 'heartbeats delivered again')).toBe(true);
    expect(t.client.maxInFlight).toBe(1);
    t.client.assertConsumed();
    (t.child as FakeChild).exit({ code: 0, signal: null });
  });

  it('stops the child on desiredState stop and reports the signal', async () => {
    const t = setUp({ script: [CONTINUE, STOP, CONTINUE] });
    await t.scheduler.runUntil(() => t.outcome() !== undefined);

    expect((t.child as FakeChild).signals).toEqual(['SIGTERM']);
    expect(t.client.bodies.map((b) => b.status)).toEqual(['running', 'running', 'exited']);
    expect(t.client.bodies[2]).toMatchObject({
      seq: 3,
      pid: 4242,
      exit: { code: null, signal: 'SIGTERM' },
    });
    expectValidBodies(t.client.bodies);
    expect(t.outcome()).toEqual({
      exitCode: 143,
      exit: { code: null, signal: 'SIGTERM' },
      finalReport: 'delivered',
      stopReason: 'desired-state',
    });
    t.client.assertConsumed();
  });

  it('SIGKILLs a child that ignores SIGTERM once the stop timeout passed', async () => {
    const t = setUp({
      script: (body) => (body.seq === 1 ? STOP : CONTINUE),
      child: new FakeChild(7, true),
    });
    await t.scheduler.runUntil(() => t.outcome() !== undefined);

    expect((t.child as FakeChild).signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(t.clock.now().toISOString()).toBe('2026-03-01T00:00:10.000Z');
    // Heartbeats go on while the child is stopping: at 0 s (stop), 1 s, ... 9 s, then the final.
    expect(t.client.bodies.map((b) => b.status)).toEqual([
      ...Array<string>(10).fill('running'),
      'exited',
    ]);
    expect(t.client.bodies.at(-1)).toMatchObject({ status: 'exited', exit: { signal: 'SIGKILL' } });
    expect(t.outcome()?.exitCode).toBe(137);
    t.client.assertConsumed();
  });

  it('stops the child when the agent is asked to stop', async () => {
    const stop = new AbortController();
    const t = setUp({ script: [CONTINUE, CONTINUE], stopSignal: stop.signal });
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    stop.abort();
    await t.running;

    expect((t.child as FakeChild).signals).toEqual(['SIGTERM']);
    expect(t.outcome()?.stopReason).toBe('agent-signal');
    t.client.assertConsumed();
  });

  it('retries the final report with backoff until it is delivered', async () => {
    const t = setUp({ script: [CONTINUE, unavailable(), unreachable(), unavailable(), CONTINUE] });
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    (t.child as FakeChild).exit({ code: 3, signal: null });
    await t.scheduler.runUntil(() => t.outcome() !== undefined);

    const finals = t.client.bodies.slice(1);
    expect(finals.map((b) => [b.seq, b.status, b.exit])).toEqual([
      [2, 'exited', { code: 3, signal: null }],
      [3, 'exited', { code: 3, signal: null }],
      [4, 'exited', { code: 3, signal: null }],
      [5, 'exited', { code: 3, signal: null }],
    ]);
    expectValidBodies(t.client.bodies);
    expect(t.outcome()).toMatchObject({ exitCode: 3, finalReport: 'delivered' });
    t.client.assertConsumed();
  });

  it('gives up on the final report after the final-report timeout', async () => {
    const t = setUp({
      script: () => unavailable(),
      child: new FakeChild(9),
      finalReportTimeoutMs: 60_000,
      random: () => 0.999,
    });
    await t.scheduler.runUntil(() => t.client.bodies.length === 1);
    (t.child as FakeChild).exit({ code: 0, signal: null });
    await t.scheduler.runUntil(() => t.outcome() !== undefined);

    expect(t.outcome()).toMatchObject({ exitCode: 0, finalReport: 'undelivered' });
    expect(t.clock.now().getTime() - Date.parse('2026-03-01T00:00:00.000Z')).toBeLessThanOrEqual(
      60_000 + 1_000,
    );
    expect(t.logger.lines.at(-1)?.message).toBe('giving up on the final report');
  });

  it('stops the child when ingest says the runner ended (409), and accepts 409 on the final', async () => {
    const ended = () => new ApiError(409, 'RunnerEnded', 'runner r already ended');
    const t = setUp({ script: [ended(), ended()] });
    await t.running;

    expect((t.child as FakeChild).signals).toEqual(['SIGTERM']);
    expect(t.outcome()).toMatchObject({ finalReport: 'runner-ended', stopReason: 'runner-ended' });
    t.client.assertConsumed();
  });

  it('keeps the child and the cadence on 401 once a heartbeat was accepted, logging the refused token', async () => {
    const t = setUp({
      script: [CONTINUE, new ApiError(401, 'Unauthorized', 'bad token'), CONTINUE, CONTINUE],
    });
    await t.scheduler.runUntil(() => t.client.bodies.length === 4);

    expect(t.scheduler.requestedDelays).toEqual([1_000, 1_000, 1_000, 1_000]);
    expect((t.child as FakeChild).signals).toEqual([]);
    expect(t.logger.lines.find((l) => l.level === 'error')?.message).toContain('401');
    (t.child as FakeChild).exit({ code: 0, signal: null });
  });

  it('retries a 401 quickly while no heartbeat was accepted (ingest may not know the runner yet)', async () => {
    const refused = () => new ApiError(401, 'Unauthorized', 'unknown runner');
    const t = setUp({ script: [refused(), refused(), refused(), CONTINUE, CONTINUE] });
    await t.scheduler.runUntil(() => t.client.bodies.length === 5);

    // Half (random = 0.5) of 100, 200, 400 ms, then the interval once accepted.
    expect(t.scheduler.requestedDelays).toEqual([50, 100, 200, 1_000, 1_000]);
    expect(t.client.bodies.map((b) => b.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((t.child as FakeChild).signals).toEqual([]);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(t.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toHaveLength(3);
    (t.child as FakeChild).exit({ code: 0, signal: null });
  });

  it('never has two heartbeats in flight: the final waits for the pending one', async () => {
    let answerPending!: (answer: HeartbeatAnswer) => void;
    const pending = new Promise<HeartbeatAnswer>((resolve) => (answerPending = resolve));
    const t = setUp({ script: [pending, CONTINUE] });
    await settle();
    (t.child as FakeChild).exit({ code: 0, signal: null });
    await settle();
    expect(t.client.bodies).toHaveLength(1);

    answerPending(CONTINUE);
    await t.running;
    expect(t.client.bodies.map((b) => b.status)).toEqual(['running', 'exited']);
    expect(t.client.maxInFlight).toBe(1);
    t.client.assertConsumed();
  });

  it('reports a command that cannot start as exited 127 without a pid', async () => {
    const t = setUp({
      script: [CONTINUE],
      child: new AgentException(AgentErrorCode.SpawnFailed, 'could not start claude: ENOENT'),
    });
    await t.running;

    expect(t.client.bodies).toEqual([
      expect.objectContaining({
        seq: 1,
        status: 'exited',
        pid: null,
        exit: { code: 127, signal: null },
      }),
    ]);
    expectValidBodies(t.client.bodies);
    expect(t.outcome()?.exitCode).toBe(127);
  });

  it('calls onFirstHeartbeat once, when the first heartbeat failed or got its answer', async () => {
    const calls: number[] = [];
    const t = setUp({
      script: [unreachable(), CONTINUE, CONTINUE],
      onFirstHeartbeat: () => calls.push(t.client.bodies.length),
    });
    await t.scheduler.runUntil(() => t.client.bodies.length === 3);
    expect(calls).toEqual([1]);
    (t.child as FakeChild).exit({ code: 0, signal: null });
  });
});
