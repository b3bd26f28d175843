import { type Runner, ZERO_TOKENS } from './runner';
import {
  decideRestart,
  FRESH_LAUNCH,
  type RestartBackoff,
  restartBackoffMs,
  restartLaunchOf,
} from './runner-restart';

const NOW = new Date('2026-11-24T10:00:00.000Z');
const BACKOFF: RestartBackoff = { baseMs: 1_000, maxMs: 10_000 };
const HEADLESS = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];

function runner(overrides: Partial<Runner> = {}): Runner {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    projectId: '22222222-2222-4222-8222-222222222222',
    state: 'failed',
    desiredState: 'run',
    mode: 'headless',
    command: HEADLESS,
    prompt: 'fix it',
    tokenHash: 'a'.repeat(64),
    pid: null,
    agentPid: null,
    host: null,
    exitCode: 1,
    signal: null,
    failureReason: 'nonzero_exit',
    sessionId: 'sess-1',
    createdAt: NOW,
    startedAt: NOW,
    endedAt: NOW,
    lastHeartbeatAt: null,
    lastHeartbeatSeq: null,
    cpuPercent: null,
    memoryBytes: null,
    tokens: ZERO_TOKENS,
    ...FRESH_LAUNCH,
    restartPolicy: 'on-failure',
    maxRestarts: 3,
    sessionResult: null,
    ...overrides,
  };
}

const fixed = (value: number) => () => value;

describe('restartBackoffMs', () => {
  it('doubles per attempt up to the maximum, half fixed and half jitter', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => restartBackoffMs(n, BACKOFF, fixed(0)))).toEqual([
      500, 1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => restartBackoffMs(n, BACKOFF, fixed(0.999_999)))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000,
    ]);
    expect(restartBackoffMs(3, BACKOFF, fixed(0.5))).toBe(3_000);
  });

  it('never overflows for large attempts', () => {
    expect(restartBackoffMs(2_000, BACKOFF, fixed(0))).toBe(5_000);
  });
});

describe('decideRestart', () => {
  const decide = (r: Runner) => decideRestart(r, NOW, BACKOFF, fixed(0));

  it('plans a failed runner after the backoff, resuming its session', () => {
    expect(decide(runner())).toEqual({
      kind: 'schedule',
      attempt: 1,
      restartAt: new Date(NOW.getTime() + 500),
      reason: 'backoff',
      resumeSessionId: 'sess-1',
    });
    expect(decide(runner({ restarts: 2 }))).toMatchObject({
      attempt: 3,
      restartAt: new Date(NOW.getTime() + 2_000),
    });
  });

  it('plans a usage-limit stop at the reset, failed or completed', () => {
    const sessionResult = {
      subtype: 'error_during_execution',
      isError: true,
      resumable: true,
      resumeAt: '2026-11-24T15:00:00.000Z',
    };
    for (const state of ['failed', 'completed'] as const) {
      expect(decide(runner({ state, sessionResult }))).toEqual({
        kind: 'schedule',
        attempt: 1,
        restartAt: new Date('2026-11-24T15:00:00.000Z'),
        reason: 'usage_limit',
        resumeSessionId: 'sess-1',
      });
    }
    // A reset already past: at once.
    expect(
      decide(runner({ sessionResult: { ...sessionResult, resumeAt: '2026-11-24T09:00:00Z' } })),
    ).toMatchObject({ restartAt: NOW, reason: 'usage_limit' });
  });

  it.each([
    ['policy no', { restartPolicy: 'no' as const }, 'restart policy no'],
    ['still running', { state: 'running' as const }, 'runner is running'],
    ['stopped by a user', { state: 'stopped' as const }, 'stopped on request'],
    ['asked to stop, then failed', { desiredState: 'stop' as const }, 'stopped on request'],
    ['refused by a budget', { failureReason: 'budget_exceeded' as const }, 'refused by a budget'],
    ['completed', { state: 'completed' as const }, 'completed'],
    ['out of restarts', { restarts: 3 }, 'restart limit reached (3)'],
    [
      'at its max turns',
      {
        sessionResult: {
          subtype: 'error_max_turns',
          isError: true,
          resumable: true,
          resumeAt: null,
        },
      },
      'reached a limit set for it (error_max_turns)',
    ],
    [
      'at its max budget',
      {
        sessionResult: {
          subtype: 'error_max_budget_usd',
          isError: true,
          resumable: true,
          resumeAt: null,
        },
      },
      'reached a limit set for it (error_max_budget_usd)',
    ],
  ])('plans nothing for a runner %s', (_what, overrides, why) => {
    expect(decide(runner(overrides))).toEqual({ kind: 'none', why });
  });

  it('resumes the session it resumed itself when its own is unknown; other commands afresh', () => {
    expect(decide(runner({ sessionId: null, resumedFrom: 'older' }))).toMatchObject({
      resumeSessionId: 'older',
    });
    expect(decide(runner({ sessionId: null }))).toMatchObject({ resumeSessionId: null });
    expect(decide(runner({ command: ['bash', '-c', 'make'] }))).toMatchObject({
      resumeSessionId: null,
    });
  });
});

describe('restartLaunchOf', () => {
  it('resumes a Claude session with "continue", replacing an earlier resume and the budget cap', () => {
    const failed = runner({
      command: [...HEADLESS, '--resume', 'older', '--model', 'opus', '--max-budget-usd', '1.5'],
    });
    expect(restartLaunchOf(failed, 'sess-1')).toEqual({
      command: [...HEADLESS, '--model', 'opus', '--resume', 'sess-1'],
      prompt: 'continue',
      resumedFrom: 'sess-1',
    });
  });

  it('runs anything else again as it was', () => {
    const failed = runner({ command: ['bash', '-c', 'make'], prompt: 'p', sessionId: null });
    expect(restartLaunchOf(failed, null)).toEqual({
      command: ['bash', '-c', 'make'],
      prompt: 'p',
      resumedFrom: null,
    });
  });
});
