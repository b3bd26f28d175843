import {
  type SessionDetailView,
  type SessionTokens,
  type SessionView,
  type UsageView,
} from '@stratavore/contracts';

import { PROJECT_ID, RUNNER_ID } from './fixtures.test-support';

export const SESSION_ID = '4d5611e5-241a-462a-8d15-5122611a9569';

export function someTokens(overrides: Partial<SessionTokens> = {}): SessionTokens {
  return {
    input: 1200,
    output: 300,
    cacheCreation: 500,
    cacheCreation5m: 400,
    cacheCreation1h: 100,
    cacheRead: 10_000,
    webSearchRequests: 0,
    ...overrides,
  };
}

export function aSession(overrides: Partial<SessionView> = {}): SessionView {
  return {
    id: SESSION_ID,
    projectId: PROJECT_ID,
    project: { id: PROJECT_ID, name: 'web-app' },
    runnerId: RUNNER_ID,
    runnerIds: [RUNNER_ID],
    cwd: '/src/web-app',
    models: {
      'claude-sonnet-4-5': {
        input: 1200,
        output: 300,
        cacheCreation5m: 400,
        cacheCreation1h: 100,
        cacheRead: 10_000,
        webSearchRequests: 0,
        costUsd: 0.0421,
      },
    },
    tokens: someTokens(),
    turns: 4,
    costUsd: 0.0421,
    reportedCostUsd: 0.042,
    result: null,
    resumedFrom: null,
    waitingForInput: false,
    startedAt: '2026-11-24T10:00:00.000Z',
    lastSeenAt: '2026-11-24T10:05:00.000Z',
    endedAt: null,
    ...overrides,
  };
}

export function aSessionDetail(overrides: Partial<SessionDetailView> = {}): SessionDetailView {
  return { ...aSession(), runs: [], transcripts: [], ...overrides };
}

export function aUsage(overrides: Partial<UsageView> = {}): UsageView {
  return {
    by: 'project',
    from: '2026-11-01',
    to: '2026-11-30',
    rows: [{ key: PROJECT_ID, name: 'web-app', tokens: someTokens(), costUsd: 1.25 }],
    total: { tokens: someTokens(), costUsd: 1.25 },
    ...overrides,
  };
}
