import 'reflect-metadata';

import {
  heartbeatIngestConfigSchema,
  HeartbeatIngestModule,
  heartbeatIngestOptionsFromEnv,
} from '@stratavore/heartbeat-ingest';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'heartbeat-ingest',
  defaultHttpPort: 7414,
  config: heartbeatIngestConfigSchema.shape,
  imports: (config) => [
    HeartbeatIngestModule.forRoot(
      heartbeatIngestOptionsFromEnv(config.DATABASE_URL, config.EVENT_SIGNING_KEY, config),
    ),
  ],
});
