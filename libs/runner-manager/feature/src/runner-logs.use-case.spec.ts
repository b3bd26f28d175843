import { RunnerErrorCode } from '@stratavore/contracts';
import { type RunnerManagerReads } from '@stratavore/runner-manager-data-access';
import {
  FRESH_LAUNCH,
  type Runner,
  RunnerException,
  type RunnerState,
  ZERO_TOKENS,
} from '@stratavore/runner-manager-domain';

import { ReadRunnerLogs } from './runner-logs.use-case';
import { FakeLauncher } from './runner-manager.test-support';

const runnerId = '11111111-1111-4111-8111-111111111111';

function runner(state: RunnerState, host: string | null = 'test-host'): Runner {
  return {
    id: runnerId,
    projectId: '22222222-2222-4222-8222-222222222222',
    state,
    desiredState: 'run',
    mode: 'headless',
    command: ['sh'],
    prompt: null,
    tokenHash: 'a'.repeat(64),
    pid: null,
    agentPid: 10,
    host,
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

/** The use case over a store holding `stored` (or nothing) and a launcher holding `log`. */
function harness(stored: Runner | null, log?: string | Buffer) {
  const launcher = new FakeLauncher();
  if (log !== undefined) launcher.logs.set(runnerId, Buffer.from(log));
  const reads = {
    runners: {
      findById: (id: string) => Promise.resolve(stored && id === stored.id ? stored : null),
    },
  } as unknown as RunnerManagerReads;
  const store = {
    read: <T>(work: (r: RunnerManagerReads) => Promise<T>) => work(reads),
    transaction: () => Promise.reject(new Error('no transaction expected')),
  };
  return new ReadRunnerLogs({ store, launcher });
}

const request = { runner: runnerId, offset: 0, limitBytes: 65_536 };

async function codeOf(promise: Promise<unknown>): Promise<RunnerErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RunnerException) return error.code;
    throw error;
  }
  throw new Error('expected a RunnerException');
}

describe('ReadRunnerLogs', () => {
  it('serves the window with the runner state; a running runner has not ended', async () => {
    await expect(harness(runner('running'), 'hello\nbye\n').execute(request)).resolves.toEqual({
      content: 'hello\nbye\n',
      offset: 0,
      nextOffset: 10,
      size: 10,
      runnerState: 'running',
      ended: false,
    });
  });

  it('has ended once the runner is terminal and the log was read to its end', async () => {
    const logs = harness(runner('completed'), 'hello\nbye\n');
    await expect(logs.execute({ ...request, limitBytes: 6 })).resolves.toMatchObject({
      content: 'hello\n',
      nextOffset: 6,
      ended: false,
    });
    await expect(logs.execute({ ...request, offset: 6 })).resolves.toMatchObject({
      content: 'bye\n',
      nextOffset: 10,
      runnerState: 'completed',
      ended: true,
    });
  });

  it('flushes a character cut at the end only for an ended runner', async () => {
    // "ok " and the first two of the three bytes of "€": the agent is still writing it.
    const log = Buffer.concat([Buffer.from('ok '), Buffer.from('€').subarray(0, 2)]);
    await expect(harness(runner('running'), log).execute(request)).resolves.toMatchObject({
      content: 'ok ',
      nextOffset: 3,
      size: 5,
      ended: false,
    });
    await expect(harness(runner('stopped'), log).execute(request)).resolves.toMatchObject({
      content: 'ok \uFFFD',
      nextOffset: 5,
      ended: true,
    });
  });

  it('starts at the last lines with tail', async () => {
    await expect(
      harness(runner('running'), 'a\nb\nc\n').execute({ ...request, tail: 2 }),
    ).resolves.toMatchObject({ content: 'b\nc\n', offset: 2, nextOffset: 6 });
  });

  it('answers an empty log for a runner without one yet, ended when it is terminal', async () => {
    await expect(harness(runner('pending', null)).execute(request)).resolves.toEqual({
      content: '',
      offset: 0,
      nextOffset: 0,
      size: 0,
      runnerState: 'pending',
      ended: false,
    });
    await expect(harness(runner('failed')).execute(request)).resolves.toMatchObject({
      size: 0,
      ended: true,
    });
  });

  it('refuses an unknown runner and a log on another host', async () => {
    expect(await codeOf(harness(null).execute(request))).toBe(RunnerErrorCode.RunnerNotFound);
    const elsewhere = harness(runner('running', 'other-box')).execute(request);
    await expect(elsewhere).rejects.toMatchObject({
      code: RunnerErrorCode.RunnerLogUnavailable,
      message: expect.stringContaining('other-box') as string,
      details: { runner: runnerId, host: 'other-box' },
    });
  });
});
