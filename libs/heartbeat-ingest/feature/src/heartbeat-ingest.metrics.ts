import { counter, gauge, histogram } from '@stratavore/observability';

/** heartbeat-ingest's Prometheus metrics (registered once per process). */
export function heartbeatIngestMetrics() {
  return {
    received: counter<'outcome'>({
      name: 'stratavore_heartbeats_received_total',
      help: 'Heartbeats received, by outcome (accepted or the refusal code).',
      labelNames: ['outcome'],
    }),
    lag: histogram({
      name: 'stratavore_heartbeat_lag_seconds',
      help: 'Time from the agent sending a heartbeat (sentAt) to its receipt.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    }),
    registryLookups: counter<'result'>({
      name: 'stratavore_heartbeat_registry_lookups_total',
      help: 'Runner lookups of heartbeats: cached (no database read), loaded (read), unknown.',
      labelNames: ['result'],
    }),
    registryCached: gauge({
      name: 'stratavore_heartbeat_registry_cached_runners',
      help: 'Runners held in this replica registry cache (at the last sweep).',
    }),
    flushSize: histogram({
      name: 'stratavore_heartbeat_flush_size',
      help: 'Runners written per heartbeat flush.',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500],
    }),
    flushDuration: histogram({
      name: 'stratavore_heartbeat_flush_duration_seconds',
      help: 'Duration of one heartbeat flush transaction.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    flushFailures: counter({
      name: 'stratavore_heartbeat_flush_failures_total',
      help: 'Heartbeat flushes that failed (their heartbeats are kept for the next flush).',
    }),
    counterResets: counter({
      name: 'stratavore_heartbeat_counter_resets_total',
      help: 'Cumulative token counters that went down (treated as a reset).',
    }),
    staleRunners: gauge({
      name: 'stratavore_stale_runners',
      help: 'Runners without a heartbeat for the stale window at the last check.',
    }),
    staleReported: counter({
      name: 'stratavore_stale_runners_reported_total',
      help: 'Runners reported stale (heartbeat_timeout).',
    }),
    massStale: counter({
      name: 'stratavore_heartbeat_mass_stale_total',
      help: 'Checks where more than half of the active runners were stale (none was failed).',
    }),
  };
}

export type HeartbeatIngestMetrics = ReturnType<typeof heartbeatIngestMetrics>;
