import { type ProjectReply, type RunnerReply } from '@stratavore/contracts';

export const PROJECT_ID = '5f1d0c2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
export const RUNNER_ID = '0b6c7a44-5d7e-4a54-9a3f-1f0c3a3e2b10';

export function aProject(overrides: Partial<ProjectReply> = {}): ProjectReply {
  return {
    id: PROJECT_ID,
    name: 'web-app',
    path: '/src/web-app',
    description: 'the shop',
    command: ['claude'],
    maxRunners: 2,
    env: [
      { name: 'NODE_ENV', value: 'test', secret: false },
      { name: 'TOKEN', value: null, secret: true },
    ],
    createdAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
    archivedAt: null,
    ...overrides,
  };
}

export function aRunner(overrides: Partial<RunnerReply> = {}): RunnerReply {
  return {
    id: RUNNER_ID,
    project: { id: PROJECT_ID, name: 'web-app' },
    state: 'running',
    desiredState: 'run',
    mode: 'headless',
    command: ['claude'],
    prompt: 'fix the test',
    pid: 4242,
    agentPid: 4241,
    host: 'box',
    exitCode: null,
    signal: null,
    failureReason: null,
    sessionId: null,
    createdAt: '2026-11-24T10:00:00.000Z',
    startedAt: '2026-11-24T10:00:01.000Z',
    endedAt: null,
    lastHeartbeatAt: new Date(Date.now() - 5000).toISOString(),
    cpuPercent: 12.5,
    memoryBytes: 104857600,
    tokens: { inputTokens: 1000, outputTokens: 500, cacheCreationTokens: 0, cacheReadTokens: 0 },
    ...overrides,
  };
}

/** The gateway's error body. */
export function apiError(statusCode: number, code: string, message: string) {
  return { statusCode, code, message, requestId: 'req-1' };
}
