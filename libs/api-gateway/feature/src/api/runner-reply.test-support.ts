import { type RunnerReply } from '@stratavore/contracts';

import { runnerReplyFixture } from '../gateway-suite.test-support';

export const TEST_PROJECT = { id: '11111111-1111-4111-8111-111111111111', name: 'alpha' };
export const TEST_NOW = '2026-11-24T10:00:00.000Z';
export const ZERO_TOKENS = {
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
};

/** A runner as runner-manager sends it: no liveness of its own beyond what it recorded. */
export function runnerReply(overrides: Partial<RunnerReply> = {}): RunnerReply {
  return runnerReplyFixture({
    project: TEST_PROJECT,
    state: 'running',
    command: ['claude'],
    pid: 3030,
    agentPid: 3000,
    host: 'h1',
    createdAt: TEST_NOW,
    startedAt: TEST_NOW,
    tokens: ZERO_TOKENS,
    ...overrides,
  });
}
