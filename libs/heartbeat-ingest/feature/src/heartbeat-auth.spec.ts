import {
  NO_SESSION_PROGRESS,
  type RegisteredRunner,
} from '@stratavore/heartbeat-ingest-data-access';

import { HeartbeatErrorCode } from './heartbeat.exception';
import { authorizeHeartbeat, bearerToken, hashRunnerToken, sameDigest } from './heartbeat-auth';

const tokenA = 'token-of-runner-a';
const tokenB = 'token-of-runner-b';

function runner(id: string, token: string, ended = false): RegisteredRunner {
  return {
    runnerId: id,
    projectId: 'p',
    tokenHash: hashRunnerToken(token),
    intervalMs: 10_000,
    desiredState: 'run',
    ended,
    registeredAt: new Date(0),
    startedAt: null,
    exitReportedAt: null,
    staleReportedAt: null,
    lastSeq: null,
    counters: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    session: NO_SESSION_PROGRESS,
  };
}

const owners = new Map([
  [hashRunnerToken(tokenA), 'a'],
  [hashRunnerToken(tokenB), 'b'],
]);
/** A strict fake: the owner lookup must not run when the named runner's hash matched. */
function ownerLookup(allowed: boolean) {
  return (hash: string) => {
    if (!allowed) throw new Error('unexpected owner lookup');
    return Promise.resolve(owners.get(hash) ?? null);
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('heartbeat authentication', () => {
  it('accepts the runner own token without looking up owners', async () => {
    const a = runner('a', tokenA);
    await expect(
      authorizeHeartbeat({
        presentedHash: hashRunnerToken(tokenA),
        runner: a,
        ownerOf: ownerLookup(false),
      }),
    ).resolves.toBe(a);
  });

  it('refuses the token of another runner with 403', async () => {
    expect(
      await codeOf(
        authorizeHeartbeat({
          presentedHash: hashRunnerToken(tokenA),
          runner: runner('b', tokenB),
          ownerOf: ownerLookup(true),
        }),
      ),
    ).toBe(HeartbeatErrorCode.TokenOfAnotherRunner);
    // also when the named runner is unknown to us
    expect(
      await codeOf(
        authorizeHeartbeat({
          presentedHash: hashRunnerToken(tokenA),
          runner: null,
          ownerOf: ownerLookup(true),
        }),
      ),
    ).toBe(HeartbeatErrorCode.TokenOfAnotherRunner);
  });

  it('refuses an unknown token or runner with 401', async () => {
    for (const named of [runner('a', tokenA), null]) {
      expect(
        await codeOf(
          authorizeHeartbeat({
            presentedHash: hashRunnerToken('forged'),
            runner: named,
            ownerOf: ownerLookup(true),
          }),
        ),
      ).toBe(HeartbeatErrorCode.Unauthenticated);
    }
  });

  it('answers 409 to an ended runner with a valid token only', async () => {
    expect(
      await codeOf(
        authorizeHeartbeat({
          presentedHash: hashRunnerToken(tokenA),
          runner: runner('a', tokenA, true),
          ownerOf: ownerLookup(false),
        }),
      ),
    ).toBe(HeartbeatErrorCode.RunnerEnded);
    expect(
      await codeOf(
        authorizeHeartbeat({
          presentedHash: hashRunnerToken('forged'),
          runner: runner('a', tokenA, true),
          ownerOf: ownerLookup(true),
        }),
      ),
    ).toBe(HeartbeatErrorCode.Unauthenticated);
  });

  it('reads only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc_DEF-123')).toBe('abc_DEF-123');
    for (const header of [undefined, '', 'Basic abc', 'Bearer ', 'bearer abc']) {
      expect(() => bearerToken(header)).toThrow(/Bearer/);
    }
  });

  it('compares digests of equal length only', () => {
    expect(sameDigest(hashRunnerToken('x'), hashRunnerToken('x'))).toBe(true);
    expect(sameDigest(hashRunnerToken('x'), hashRunnerToken('y'))).toBe(false);
    expect(sameDigest(hashRunnerToken('x'), 'abcd')).toBe(false);
  });
});
