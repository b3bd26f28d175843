import { type HeartbeatRequest } from '@stratavore/contracts';
import { type IdGenerator, ManualClock, SequentialIdGenerator } from '@stratavore/core';
import {
  NO_SESSION_PROGRESS,
  type RegisteredRunner,
} from '@stratavore/heartbeat-ingest-data-access';

import { type BufferedHeartbeat } from './heartbeat-buffer';
import { HeartbeatEventFactory } from './heartbeat-events';

export const TEST_SIGNING_KEY = 'heartbeat-ingest-test-signing-key';

export function testEvents(
  clock = new ManualClock(),
  ids: IdGenerator = new SequentialIdGenerator(),
): HeartbeatEventFactory {
  return new HeartbeatEventFactory({
    clock,
    ids,
    signingKey: TEST_SIGNING_KEY,
  });
}

export function report(
  runnerId: string,
  overrides: Partial<HeartbeatRequest> = {},
): HeartbeatRequest {
  return {
    runnerId,
    seq: 1,
    sentAt: '2026-01-01T00:00:00.000Z',
    status: 'running',
    pid: 4242,
    cpuPercent: 1.5,
    memoryBytes: 1024,
    agentVersion: '0.1.0',
    sessionId: null,
    counters: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    ...overrides,
  };
}

export function buffered(
  runnerId: string,
  overrides: Partial<HeartbeatRequest> = {},
  receivedAt = new Date('2026-01-01T00:00:01.000Z'),
): BufferedHeartbeat {
  return { report: report(runnerId, overrides), receivedAt, correlationId: 'corr-1' };
}

export function registered(
  runnerId: string,
  overrides: Partial<RegisteredRunner> = {},
): RegisteredRunner {
  return {
    runnerId,
    projectId: '22222222-2222-4222-8222-222222222222',
    tokenHash: 'a'.repeat(64),
    intervalMs: 10_000,
    desiredState: 'run',
    ended: false,
    registeredAt: new Date('2026-01-01T00:00:00.000Z'),
    startedAt: null,
    exitReportedAt: null,
    staleReportedAt: null,
    lastSeq: null,
    counters: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    session: NO_SESSION_PROGRESS,
    ...overrides,
  };
}
