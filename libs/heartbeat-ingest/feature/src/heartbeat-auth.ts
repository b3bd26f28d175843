import { createHash, timingSafeEqual } from 'node:crypto';

import { type RunnerAccess } from '@stratavore/heartbeat-ingest-data-access';

import { HeartbeatErrorCode, HeartbeatException } from './heartbeat.exception';

/** What is stored of a runner token: sha256, hex (docs/runners.md, "Runner token"). */
export function hashRunnerToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/** The token of an `Authorization: Bearer <token>` header; 401 when absent or malformed. */
export function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : BEARER.exec(header.trim());
  if (!match?.[1]) {
    throw new HeartbeatException(
      HeartbeatErrorCode.Unauthenticated,
      'expected Authorization: Bearer <runner token>',
    );
  }
  return match[1];
}

export interface HeartbeatAuthFacts {
  /** sha256 of the presented token. */
  readonly presentedHash: string;
  /** The runner named in the body, as registered (`null`: unknown). */
  readonly runner: RunnerAccess | null;
  /** Looks up whose token the hash is; asked only when it is not the named runner's. */
  readonly ownerOf: (tokenHash: string) => Promise<string | null>;
}

/**
 * Decides whether a heartbeat may be booked. The named runner's stored hash is compared in
 * constant time. When it does not match, the hash is looked up (unique index): a token of
 * another runner is a 403, anything else a 401. The lookup's timing can tell only whether a
 * sha256 digest exists, which reveals nothing usable about any token. An ended runner with a
 * valid token is a 409, so its agent learns to stop.
 */
export async function authorizeHeartbeat(facts: HeartbeatAuthFacts): Promise<RunnerAccess> {
  const { runner, presentedHash } = facts;
  if (runner && sameDigest(presentedHash, runner.tokenHash)) {
    if (runner.ended) {
      throw new HeartbeatException(
        HeartbeatErrorCode.RunnerEnded,
        `runner ${runner.runnerId} has ended; stop reporting`,
      );
    }
    return runner;
  }
  const owner = await facts.ownerOf(presentedHash);
  if (owner !== null && owner !== runner?.runnerId) {
    throw new HeartbeatException(
      HeartbeatErrorCode.TokenOfAnotherRunner,
      'this token belongs to another runner',
    );
  }
  throw new HeartbeatException(HeartbeatErrorCode.Unauthenticated, 'unknown runner or bad token');
}
