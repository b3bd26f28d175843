import {
  heartbeatAnswerSchema,
  type HeartbeatRequest,
  heartbeatRequestSchema,
  ZERO_HEARTBEAT_COUNTERS,
} from './heartbeat.schema';

const running: HeartbeatRequest = {
  runnerId: '11111111-1111-4111-8111-111111111111',
  seq: 12,
  sentAt: '2026-11-24T10:00:00.000Z',
  status: 'running',
  pid: 1234,
  cpuPercent: 12.5,
  memoryBytes: 104_857_600,
  agentVersion: '0.1.0',
  sessionId: null,
  counters: { ...ZERO_HEARTBEAT_COUNTERS },
};

function issuePaths(input: unknown): string[] {
  const result = heartbeatRequestSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
}

describe('heartbeatRequestSchema', () => {
  it('accepts the documented running and exited bodies', () => {
    expect(heartbeatRequestSchema.parse(running)).toEqual(running);
    const exited = { ...running, status: 'exited', exit: { code: null, signal: 'SIGKILL' } };
    expect(heartbeatRequestSchema.parse(exited)).toEqual(exited);
  });

  it('refuses unknown fields, at the top and inside counters', () => {
    expect(issuePaths({ ...running, cpuPrecent: 1 })).toEqual(['']);
    expect(issuePaths({ ...running, counters: { ...running.counters, tokens: 1 } })).toEqual([
      'counters',
    ]);
  });

  it('refuses negative or fractional counters and an unknown status', () => {
    expect(
      issuePaths({
        ...running,
        status: 'stopping',
        counters: { ...running.counters, inputTokens: -1, outputTokens: 1.5 },
      }),
    ).toEqual(['status', 'counters.inputTokens', 'counters.outputTokens']);
  });

  it('ties exit to the exited status', () => {
    expect(issuePaths({ ...running, exit: { code: 0, signal: null } })).toEqual(['exit']);
    expect(issuePaths({ ...running, status: 'exited' })).toEqual(['exit']);
  });
});

describe('the session activity of a heartbeat', () => {
  const session = {
    sessionId: '0b8f3c1e-5d7a-4c2b-9e4f-1a2b3c4d5e6f',
    models: {},
    turns: 0,
    costUsd: 0,
    reportedCostUsd: null,
    cwd: '/srv/api',
    transcriptPath: null,
    resumedFrom: null,
    waitingForInput: true,
    result: null,
  };
  const waiting = {
    state: 'waiting',
    reason: 'permission_prompt',
    message: 'Claude needs your permission to use Bash',
    since: '2026-11-24T10:00:01.000Z',
  };

  it('is optional, so agents without hooks keep reporting', () => {
    expect(heartbeatRequestSchema.parse({ ...running, session }).session).toEqual(session);
    expect(
      heartbeatRequestSchema.parse({ ...running, session: { ...session, activity: waiting } })
        .session?.activity,
    ).toEqual(waiting);
  });

  it('names a bad state, reason or time', () => {
    expect(
      issuePaths({
        ...running,
        session: {
          ...session,
          activity: { ...waiting, state: 'sleeping', reason: '', since: 'now' },
        },
      }),
    ).toEqual(['session.activity.state', 'session.activity.reason', 'session.activity.since']);
  });
});

describe('heartbeatAnswerSchema', () => {
  it('reads the answer and tolerates fields added later by ingest', () => {
    expect(
      heartbeatAnswerSchema.parse({ desiredState: 'stop', intervalMs: 10_000, note: 'new' }),
    ).toEqual({ desiredState: 'stop', intervalMs: 10_000 });
    expect(heartbeatAnswerSchema.safeParse({ desiredState: 'kill', intervalMs: 1 }).success).toBe(
      false,
    );
  });
});
