import { duration } from '@stratavore/config';
import { z } from 'zod';

import { type HeartbeatIngestModuleOptions } from './heartbeat-ingest.module';

/** heartbeat-ingest's own environment variables (docs/heartbeats.md). */
export const heartbeatIngestConfigSchema = z.object({
  /** `HEARTBEAT_FLUSH_INTERVAL`: write buffered heartbeats at least this often. Default 1s. */
  HEARTBEAT_FLUSH_INTERVAL: duration().default(1_000),
  /**
   * `HEARTBEAT_FLUSH_MAX_ENTRIES`: most runners one flush transaction writes; a flush starts as
   * soon as this many are buffered. Default 200.
   */
  HEARTBEAT_FLUSH_MAX_ENTRIES: z.coerce.number().int().positive().default(200),
  /**
   * `HEARTBEAT_REGISTRY_TTL`: how long a replica trusts its cached copy of a runner's registry
   * row without reading it again (events and flushes refresh it meanwhile). Default 30s.
   */
  HEARTBEAT_REGISTRY_TTL: duration().pipe(z.number().int().positive()).default(30_000),
  /** `HEARTBEAT_DEFAULT_INTERVAL`: a runner's interval when `runner.launched` has none. 10s. */
  HEARTBEAT_DEFAULT_INTERVAL: duration().default(10_000),
  /** `STALE_AFTER_INTERVALS`: silent intervals before a runner is stale. Default 3. */
  STALE_AFTER_INTERVALS: z.coerce.number().int().positive().default(3),
  /** `STALE_CHECK_INTERVAL`: how often the leader looks for stale runners. Default 10s. */
  STALE_CHECK_INTERVAL: duration().default(10_000),
  /**
   * `STALE_GRACE`: no runner is judged for this long after the detector starts acting.
   * Default: the stale window, at least 45s (the agent's retry backoff reaches 30 s).
   */
  STALE_GRACE: duration().optional(),
  /**
   * `STALE_START_TIMEOUT`: how long a launched runner may take to send its first heartbeat.
   * Default: the stale window, at least 30s.
   */
  STALE_START_TIMEOUT: duration().optional(),
  /** `MASS_STALE_MIN_ACTIVE`: the mass-stale brake applies from this many active runners. 3. */
  MASS_STALE_MIN_ACTIVE: z.coerce.number().int().positive().default(3),
});

export type HeartbeatIngestConfig = z.output<typeof heartbeatIngestConfigSchema>;

/** The module's options from the validated environment (the app and the daemon share this). */
export function heartbeatIngestOptionsFromEnv(
  databaseUrl: string,
  signingKey: string,
  env: HeartbeatIngestConfig,
): HeartbeatIngestModuleOptions {
  return {
    databaseUrl,
    signingKey,
    batch: {
      flushIntervalMs: env.HEARTBEAT_FLUSH_INTERVAL,
      maxEntries: env.HEARTBEAT_FLUSH_MAX_ENTRIES,
    },
    defaultIntervalMs: env.HEARTBEAT_DEFAULT_INTERVAL,
    registryTtlMs: env.HEARTBEAT_REGISTRY_TTL,
    stale: {
      staleAfterIntervals: env.STALE_AFTER_INTERVALS,
      checkIntervalMs: env.STALE_CHECK_INTERVAL,
      graceMs: env.STALE_GRACE,
      startTimeoutMs: env.STALE_START_TIMEOUT,
      massStaleMinActive: env.MASS_STALE_MIN_ACTIVE,
    },
  };
}
