import 'reflect-metadata';

import { loadConfig } from '@stratavore/config';
import { heartbeatIngestConfigSchema, HeartbeatIngestModule } from '@stratavore/heartbeat-ingest';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'heartbeat-ingest',
  defaultHttpPort: 7414,
  imports: (config) => {
    const own = loadConfig(heartbeatIngestConfigSchema, process.env, { app: 'heartbeat-ingest' });
    return [
      HeartbeatIngestModule.forRoot({
        databaseUrl: config.DATABASE_URL,
        signingKey: config.EVENT_SIGNING_KEY,
        batch: {
          flushIntervalMs: own.HEARTBEAT_FLUSH_INTERVAL,
          maxEntries: own.HEARTBEAT_FLUSH_MAX_ENTRIES,
        },
        defaultIntervalMs: own.HEARTBEAT_DEFAULT_INTERVAL,
        stale: {
          staleAfterIntervals: own.STALE_AFTER_INTERVALS,
          checkIntervalMs: own.STALE_CHECK_INTERVAL,
          graceMs: own.STALE_GRACE,
          massStaleMinActive: own.MASS_STALE_MIN_ACTIVE,
        },
      }),
    ];
  },
});
