import 'reflect-metadata';

import { heartbeatIngestConfigSchema, HeartbeatIngestModule } from '@stratavore/heartbeat-ingest';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'heartbeat-ingest',
  defaultHttpPort: 7414,
  config: heartbeatIngestConfigSchema.shape,
  imports: (config) => [
    HeartbeatIngestModule.forRoot({
      databaseUrl: config.DATABASE_URL,
      signingKey: config.EVENT_SIGNING_KEY,
      batch: {
        flushIntervalMs: config.HEARTBEAT_FLUSH_INTERVAL,
        maxEntries: config.HEARTBEAT_FLUSH_MAX_ENTRIES,
      },
      defaultIntervalMs: config.HEARTBEAT_DEFAULT_INTERVAL,
      stale: {
        staleAfterIntervals: config.STALE_AFTER_INTERVALS,
        checkIntervalMs: config.STALE_CHECK_INTERVAL,
        graceMs: config.STALE_GRACE,
        startTimeoutMs: config.STALE_START_TIMEOUT,
        massStaleMinActive: config.MASS_STALE_MIN_ACTIVE,
      },
    }),
  ],
});
