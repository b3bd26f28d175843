import 'reflect-metadata';

import { outboxRelayEnvSchema, outboxRelayRuntimeModule } from '@stratavore/outbox-relay';
import { runService } from '@stratavore/service-runtime';

void runService({
  service: 'outbox-relay',
  defaultHttpPort: 7417,
  config: outboxRelayEnvSchema.shape,
  imports: (config) => [
    outboxRelayRuntimeModule({ databaseUrl: config.DATABASE_URL, env: config }),
  ],
});
