import { type HeartbeatCounters, type HeartbeatSession } from '@stratavore/contracts/heartbeat';

/**
 * Where token usage comes from. Counters are cumulative since the runner started; the agent
 * reads them for every heartbeat, so a heartbeat sent after an outage carries everything.
 */
export interface UsageSource {
  counters(): HeartbeatCounters;
  /** The agent CLI's session id once known (Claude's), else null. */
  sessionId(): string | null;
  /**
   * The heartbeat's optional session snapshot (per-model usage, turns, cost, result), for the
   * sources that understand the agent CLI; absent until a session id is known.
   */
  session?(): HeartbeatSession | undefined;
  /**
   * Registers a listener called when the session changed in a way worth reporting at once
   * (Claude Code waits for a person, or works again): the supervisor then sends a heartbeat
   * without waiting for the interval.
   */
  onChange?(listener: () => void): void;
}

/**
 * A plain command uses no tokens. Its counters are written out rather than taken from the
 * contracts' `ZERO_HEARTBEAT_COUNTERS`, whose module builds the heartbeat's zod schemas on the
 * agent's way to its first heartbeat.
 */
export class ZeroUsageSource implements UsageSource {
  counters(): HeartbeatCounters {
    return { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 };
  }

  sessionId(): string | null {
    return null;
  }
}
