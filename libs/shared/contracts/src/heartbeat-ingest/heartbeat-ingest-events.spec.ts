import { buildEnvelope } from '../build-envelope';
import { stratavoreEvents } from '../catalog';
import { HEARTBEAT_INGEST_SOURCE, heartbeatIngestEvents } from './heartbeat-ingest-events';

const deps = {
  clock: { now: () => new Date('2026-01-01T00:00:00.000Z') },
  ids: { uuid: () => '00000000-0000-4000-8000-000000000001' },
  signingKey: 'test-signing-key-0123456789',
  catalog: stratavoreEvents,
};
const runnerId = '11111111-1111-4111-8111-111111111111';
const projectId = '22222222-2222-4222-8222-222222222222';

describe('heartbeat-ingest events', () => {
  it('are listed in the shared catalog', () => {
    for (const contract of heartbeatIngestEvents) {
      expect(stratavoreEvents.has(contract.type, contract.version)).toBe(true);
    }
    expect(stratavoreEvents.has('usage.reported', 1)).toBe(true);
  });

  it('builds a stale event and refuses another reason', () => {
    const data = {
      runnerId,
      projectId,
      reason: 'heartbeat_timeout' as const,
      lastHeartbeatAt: null,
      silentForMs: 30_000,
      intervalMs: 10_000,
      staleAfterIntervals: 3,
      detectedAt: '2026-01-01T00:00:30.000Z',
    };
    const envelope = buildEnvelope(
      {
        type: 'heartbeat.runner-stale',
        version: 1,
        source: HEARTBEAT_INGEST_SOURCE,
        subject: runnerId,
        correlationId: 'c-1',
        data,
      },
      deps,
    );
    expect(envelope.data).toEqual(data);
    expect(() =>
      stratavoreEvents.parse('heartbeat.runner-stale', 1, { ...data, reason: 'killed' }),
    ).toThrow(/data.reason/);
  });

  it('names the outcome of an exit', () => {
    const check = stratavoreEvents.validate('heartbeat.exited', 1, {
      runnerId,
      projectId,
      outcome: 'crashed',
      exitCode: 1,
      signal: null,
      sessionId: null,
      receivedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(check.ok).toBe(false);
  });
});
