import { type EventEnvelope } from '@stratavore/contracts';
import { type RunnerManagerTransaction } from '@stratavore/runner-manager-data-access';
import {
  FRESH_LAUNCH,
  type Runner,
  type RunnerState,
  ZERO_TOKENS,
} from '@stratavore/runner-manager-domain';

import { decide, HeartbeatSignalsConsumer } from './heartbeat-signals.consumer';
import { FakeLauncher, TEST_SIGNING_KEY, testDeps } from './runner-manager.test-support';

const runnerId = '11111111-1111-4111-8111-111111111111';
const projectId = '22222222-2222-4222-8222-222222222222';

function runner(state: RunnerState): Runner {
  return {
    id: runnerId,
    projectId,
    state,
    desiredState: 'run',
    mode: 'headless',
    command: ['claude'],
    prompt: null,
    tokenHash: 'a'.repeat(64),
    pid: null,
    agentPid: 10,
    host: 'h',
    exitCode: null,
    signal: null,
    failureReason: null,
    sessionId: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    startedAt: null,
    endedAt: null,
    lastHeartbeatAt: null,
    lastHeartbeatSeq: null,
    cpuPercent: null,
    memoryBytes: null,
    tokens: ZERO_TOKENS,
    ...FRESH_LAUNCH,
    sessionResult: null,
  };
}

function signal(type: string, data: Record<string, unknown>): EventEnvelope {
  return {
    specversion: '1.0',
    id: '33333333-3333-4333-8333-333333333333',
    source: 'heartbeat-ingest',
    type,
    dataversion: 1,
    time: '2026-01-01T00:00:00.000Z',
    subject: runnerId,
    correlationId: 'c',
    data: { runnerId, projectId, ...data },
    signature: '0'.repeat(64),
  };
}

const at = '2026-01-01T00:00:01.000Z';
const firstReceived = signal('heartbeat.first-received', {
  seq: 1,
  pid: 4242,
  sessionId: null,
  receivedAt: at,
});
const exited = (outcome: string, exitCode: number | null, sig: string | null = null) =>
  signal('heartbeat.exited', { outcome, exitCode, signal: sig, sessionId: null, receivedAt: at });
const stale = signal('heartbeat.runner-stale', {
  reason: 'heartbeat_timeout',
  lastHeartbeatAt: null,
  silentForMs: 31_000,
  intervalMs: 10_000,
  staleAfterIntervals: 3,
  detectedAt: at,
});

describe('decide (heartbeat signals -> runner transitions)', () => {
  it('moves a starting runner to running with the child pid', () => {
    expect(decide(firstReceived, runner('starting'))).toEqual({
      kind: 'move',
      to: 'running',
      patch: { pid: 4242, sessionId: null },
    });
  });

  it('waits while the launch is not recorded yet', () => {
    expect(decide(firstReceived, runner('pending')).kind).toBe('wait');
    expect(decide(exited('completed', 0), runner('pending')).kind).toBe('wait');
  });

  it('ignores a first heartbeat for a runner already past starting', () => {
    expect(decide(firstReceived, runner('running')).kind).toBe('ignore');
  });

  it('ends a running runner with the outcome of its final report', () => {
    expect(decide(exited('completed', 0), runner('running'))).toMatchObject({
      kind: 'move',
      to: 'completed',
      patch: { exitCode: 0 },
    });
    expect(decide(exited('failed', 3), runner('running'))).toMatchObject({
      kind: 'move',
      to: 'failed',
      patch: { exitCode: 3, failureReason: 'nonzero_exit' },
    });
    expect(decide(exited('stopped', null, 'SIGTERM'), runner('stopping'))).toMatchObject({
      kind: 'move',
      to: 'stopped',
      patch: { signal: 'SIGTERM' },
    });
  });

  it('counts a runner that ended on a stop request as stopped, whatever the signal did', () => {
    const stopping = { ...runner('stopping'), desiredState: 'stop' as const };
    expect(decide(exited('failed', null, 'SIGTERM'), stopping)).toEqual({
      kind: 'move',
      to: 'stopped',
      patch: { exitCode: null, signal: 'SIGTERM' },
    });
    const killed = { ...runner('stopping'), desiredState: 'kill' as const };
    expect(decide(exited('failed', null, 'SIGKILL'), killed)).toMatchObject({ to: 'stopped' });
  });

  it('never completes a runner that did not run', () => {
    expect(decide(exited('completed', 0), runner('starting'))).toMatchObject({
      kind: 'move',
      to: 'failed',
    });
  });

  it('fails a silent runner with heartbeat_timeout, and ignores ended ones', () => {
    expect(decide(stale, runner('running'))).toMatchObject({
      kind: 'move',
      to: 'failed',
      patch: { failureReason: 'heartbeat_timeout' },
    });
    for (const ended of ['completed', 'failed', 'stopped'] as const) {
      expect(decide(stale, runner(ended)).kind).toBe('ignore');
    }
  });
});

describe('HeartbeatSignalsConsumer reaping', () => {
  /** A store holding one runner; records commits, refuses anything the consumer should not do. */
  function harness(initial: Runner) {
    const log: string[] = [];
    let stored = initial;
    const launcher = new FakeLauncher();
    const reap = launcher.reap.bind(launcher);
    launcher.reap = (r) => {
      log.push(`reap ${r.state}`);
      return reap(r);
    };
    const tx = {
      runners: {
        findById: (id: string) => Promise.resolve(id === stored.id ? stored : null),
        save: (r: Runner) => {
          stored = r;
          return Promise.resolve();
        },
      },
      projects: { findById: () => Promise.resolve(null) },
      lockProject: () => Promise.resolve(),
      claimInbox: () => Promise.resolve(true),
      appendEvents: () => Promise.resolve(),
    } as unknown as RunnerManagerTransaction;
    const consumer = new HeartbeatSignalsConsumer({
      ...testDeps(),
      signingKey: TEST_SIGNING_KEY,
      launcher,
      tokens: {
        next: () => {
          throw new Error('no token expected');
        },
      },
      store: {
        transaction: async <T>(work: (t: RunnerManagerTransaction) => Promise<T>) => {
          const result = await work(tx);
          log.push('commit');
          return result;
        },
        read: () => Promise.reject(new Error('no read expected')),
      },
    });
    return { consumer, launcher, log, current: () => stored };
  }

  const delivered = (envelope: EventEnvelope) => ({
    envelope,
    routingKey: envelope.type,
    attempt: 1,
  });

  it('reaps the process group of a runner failed for heartbeat_timeout, after the commit', async () => {
    const h = harness({ ...runner('running'), pid: 4242 });
    await expect(h.consumer.handle(delivered(stale))).resolves.toBe('ack');
    expect(h.current()).toMatchObject({ state: 'failed', failureReason: 'heartbeat_timeout' });
    expect(h.log).toEqual(['commit', 'reap failed']);
    expect(h.launcher.reaped.map((r) => r.pid)).toEqual([4242]);
  });

  it('reaps a runner that ended on a stop request, not one that completed or started', async () => {
    const stopping = harness({ ...runner('stopping'), desiredState: 'kill', pid: 4242 });
    await stopping.consumer.handle(delivered(exited('failed', null, 'SIGKILL')));
    expect(stopping.log).toEqual(['commit', 'reap stopped']);

    const completed = harness({ ...runner('running'), pid: 4242 });
    await completed.consumer.handle(delivered(exited('completed', 0)));
    const started = harness(runner('starting'));
    await started.consumer.handle(delivered(firstReceived));
    expect([...completed.log, ...started.log]).toEqual(['commit', 'commit']);
  });

  it('still acknowledges when reaping fails', async () => {
    const h = harness({ ...runner('running'), pid: 4242 });
    h.launcher.reap = () => Promise.reject(new Error('EPERM'));
    await expect(h.consumer.handle(delivered(stale))).resolves.toBe('ack');
    expect(h.current().state).toBe('failed');
  });
});
