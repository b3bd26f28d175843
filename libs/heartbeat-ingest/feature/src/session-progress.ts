import { createHash } from 'node:crypto';

import { type HeartbeatSession } from '@stratavore/contracts';
import { type SessionProgress } from '@stratavore/heartbeat-ingest-data-access';

/** JSON with object keys sorted, so equal snapshots serialize to equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of a session snapshot; equal for snapshots that differ only in key order. */
export function sessionDigest(session: HeartbeatSession): string {
  return createHash('sha256').update(canonicalJson(session)).digest('hex');
}

/** The model of a session that used exactly one, else `undefined`. */
export function singleModel(session: HeartbeatSession | undefined): string | undefined {
  if (!session) return undefined;
  const models = Object.keys(session.models);
  return models.length === 1 ? models[0] : undefined;
}

/** Sub-nanodollar noise of floating-point subtraction is rounded away. */
const USD_ROUNDING = 1e10;

export interface CostDelta {
  /** USD since the last booked cost; `null` when the session's cost is not known. */
  readonly deltaUsd: number | null;
  /** What to record as booked. */
  readonly base: Pick<SessionProgress, 'costSessionId' | 'costUsd'>;
  /** The cumulative cost went down within one session (booked 0, the new value is the base). */
  readonly reset: boolean;
}

/**
 * The cost to book with a report, from the cumulative `session.costUsd`, the way token deltas
 * come from cumulative counters: `current - last booked`, so a repeated report books 0 and a
 * lost one is covered by the next. The base belongs to one session id: a runner whose agent
 * moved to another session (a `/clear` in an interactive session) starts that one from 0. A cost
 * that went down within a session is a reset (books 0, new base). An unknown cost (`null`, a
 * model without a price) books nothing and keeps the base.
 */
export function computeCostDelta(
  last: Pick<SessionProgress, 'costSessionId' | 'costUsd'>,
  session: HeartbeatSession | undefined,
): CostDelta {
  const keep = { costSessionId: last.costSessionId, costUsd: last.costUsd };
  if (!session) return { deltaUsd: null, base: keep, reset: false };
  const sameSession = session.sessionId === last.costSessionId;
  const booked = sameSession ? last.costUsd : 0;
  if (session.costUsd === null) {
    return {
      deltaUsd: null,
      base: { costSessionId: session.sessionId, costUsd: booked },
      reset: false,
    };
  }
  const base = { costSessionId: session.sessionId, costUsd: session.costUsd };
  const diff = Math.round((session.costUsd - booked) * USD_ROUNDING) / USD_ROUNDING;
  if (diff < 0) return { deltaUsd: 0, base, reset: true };
  return { deltaUsd: diff === 0 ? 0 : diff, base, reset: false };
}
