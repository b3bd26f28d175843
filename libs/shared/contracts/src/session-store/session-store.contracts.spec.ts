import { stratavoreEvents } from '../catalog';
import { sessionStoreEvents } from './session-events';
import {
  transcriptKindName,
  transcriptKindRefSchema,
  transcriptWindowRequestSchema,
  usageByRequestSchema,
} from './session-store.requests';

const runnerId = '11111111-1111-4111-8111-111111111111';
const projectId = '22222222-2222-4222-8222-222222222222';

function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  return result.error?.issues.map((i) => i.path.map(String).join('.'));
}

describe('session-store contracts', () => {
  it('lists the session events in the shared catalog', () => {
    for (const contract of sessionStoreEvents) {
      expect(stratavoreEvents.has(contract.type, contract.version)).toBe(true);
    }
  });

  it('validates session.reported with the heartbeat session snapshot', () => {
    const data = {
      runnerId,
      projectId,
      seq: 3,
      observedAt: '2026-01-01T00:00:00.000Z',
      session: {
        sessionId: 'a1b2',
        models: {
          'claude-sonnet-4-5': {
            input: 1,
            output: 2,
            cacheCreation5m: 0,
            cacheCreation1h: 0,
            cacheRead: 5,
            webSearchRequests: 0,
          },
        },
        turns: 1,
        costUsd: 0.01,
        reportedCostUsd: null,
        cwd: '/srv/app',
        transcriptPath: null,
        resumedFrom: null,
        waitingForInput: false,
        result: null,
      },
    };
    expect(stratavoreEvents.validate('session.reported', 1, data).ok).toBe(true);
    const check = stratavoreEvents.validate('session.reported', 1, {
      ...data,
      session: { ...data.session, turns: -1 },
    });
    expect(check.ok ? [] : check.violations.map((v) => v.field)).toEqual(['data.session.turns']);
  });

  it('names transcripts main or subagent-<agentId>', () => {
    expect(transcriptKindRefSchema.parse('main')).toEqual({ kind: 'main', agentId: null });
    expect(transcriptKindRefSchema.parse('subagent-a2898e3')).toEqual({
      kind: 'subagent',
      agentId: 'a2898e3',
    });
    for (const bad of ['', 'subagent-', 'subagent-../x', 'sidechain', 'MAIN']) {
      expect(transcriptKindRefSchema.safeParse(bad).success).toBe(false);
    }
    expect(transcriptKindName('subagent', 'a1')).toBe('subagent-a1');
    expect(transcriptKindName('main', null)).toBe('main');
  });

  it('asks for agentId exactly with kind subagent', () => {
    expect(transcriptWindowRequestSchema.parse({ session: 's' })).toEqual({
      session: 's',
      kind: 'main',
      agentId: null,
      offset: 0,
      limitBytes: 262_144,
    });
    expect(
      issues(transcriptWindowRequestSchema.safeParse({ session: 's', kind: 'subagent' })),
    ).toEqual(['agentId']);
    expect(
      issues(transcriptWindowRequestSchema.safeParse({ session: 's', agentId: 'a1' })),
    ).toEqual(['agentId']);
  });

  it('refuses a usage range that runs backwards or is too long', () => {
    expect(
      issues(usageByRequestSchema.safeParse({ by: 'day', from: '2026-02-01', to: '2026-01-01' })),
    ).toEqual(['from']);
    expect(
      issues(usageByRequestSchema.safeParse({ by: 'day', from: '2000-01-01', to: '2026-01-01' })),
    ).toEqual(['from']);
    expect(issues(usageByRequestSchema.safeParse({ by: 'week' }))).toEqual(['by']);
    expect(usageByRequestSchema.safeParse({ by: 'model', from: '2026-01-01' }).success).toBe(true);
  });
});
