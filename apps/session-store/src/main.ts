import 'reflect-metadata';

import { defaultDataDir } from '@stratavore/embedded-postgres';
import { runService } from '@stratavore/service-runtime';
import {
  sessionStoreConfigSchema,
  SessionStoreModule,
  sessionStoreOptionsFromEnv,
} from '@stratavore/session-store';

void runService({
  service: 'session-store',
  defaultHttpPort: 7416,
  config: sessionStoreConfigSchema.shape,
  imports: (config) => [
    SessionStoreModule.forRoot(
      sessionStoreOptionsFromEnv(
        config.DATABASE_URL,
        config.EVENT_SIGNING_KEY,
        config,
        defaultDataDir(process.env),
      ),
    ),
  ],
});
