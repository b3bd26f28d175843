import { aRunner } from '../testing/fixtures.test-support';
import { formatRestarts, showsRestarts } from './restart-views';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');

function plan(overrides: object) {
  return {
    id: '33333333-3333-4333-8333-333333333333',
    attempt: 1,
    at: '2026-11-24T10:00:30.000Z',
    reason: 'backoff' as const,
    state: 'scheduled' as const,
    resumeSessionId: 's',
    replacementId: null,
    detail: null,
    ...overrides,
  };
}

describe('the RESTARTS column', () => {
  it('shows only when a runner has a restart policy or replaces one', () => {
    expect(showsRestarts([aRunner()])).toBe(false);
    expect(showsRestarts([aRunner(), aRunner({ restartPolicy: 'on-failure' })])).toBe(true);
    expect(showsRestarts([aRunner({ restartOf: '44444444-4444-4444-8444-444444444444' })])).toBe(
      true,
    );
  });

  it('says how many restarts of how many, and what comes next', () => {
    const policy = { restartPolicy: 'on-failure' as const, maxRestarts: 3, restarts: 1 };
    expect(formatRestarts(aRunner(policy), NOW)).toBe('1/3');
    expect(formatRestarts(aRunner({ ...policy, restart: plan({}) }), NOW)).toBe('1/3 next in 30s');
    expect(
      formatRestarts(
        aRunner({
          ...policy,
          restart: plan({ reason: 'usage_limit', at: '2026-11-24T15:00:00.000Z' }),
        }),
        NOW,
      ),
    ).toBe('1/3 next in 5h (usage limit)');
    expect(
      formatRestarts(
        aRunner({
          ...policy,
          restart: plan({
            state: 'launched',
            replacementId: '55555555-5555-4555-8555-555555555555',
          }),
        }),
        NOW,
      ),
    ).toBe('1/3 -> 55555555');
    expect(formatRestarts(aRunner({ ...policy, restart: plan({ state: 'failed' }) }), NOW)).toBe(
      '1/3 failed',
    );
    expect(formatRestarts(aRunner(), NOW)).toBe('-');
  });
});
