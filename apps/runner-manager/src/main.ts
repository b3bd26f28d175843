import 'reflect-metadata';

import { join } from 'node:path';

import { defaultDataDir } from '@stratavore/embedded-postgres';
import {
  defaultLaunchEstimateFromEnv,
  runnerManagerEnvSchema,
  RunnerManagerModule,
  runnerRestartOptionsFromEnv,
} from '@stratavore/runner-manager';
import { runService } from '@stratavore/service-runtime';

/** The agent is built beside this app: dist/apps/agent/apps/agent/src/main.js. */
const bundledAgent = join(__dirname, '../../../../agent/apps/agent/src/main.js');

void runService({
  service: 'runner-manager',
  defaultHttpPort: 7412,
  config: runnerManagerEnvSchema.shape,
  imports: (config) => [
    RunnerManagerModule.forRoot({
      databaseUrl: config.DATABASE_URL,
      signingKey: config.EVENT_SIGNING_KEY,
      launcher: {
        agentMainPath: config.AGENT_MAIN_PATH ?? bundledAgent,
        heartbeatUrl: config.HEARTBEAT_URL ?? 'http://127.0.0.1:7414',
        transcriptUrl: config.TRANSCRIPT_URL ?? 'http://127.0.0.1:7416',
        logDir: config.RUNNER_LOG_DIR ?? join(defaultDataDir(), 'runners'),
        worktreeDir: config.WORKTREE_DIR ?? join(defaultDataDir(), 'worktrees'),
        heartbeatIntervalMs: config.HEARTBEAT_INTERVAL,
      },
      budgets: config.BUDGETS,
      budgetRequestTimeoutMs: config.BUDGET_REQUEST_TIMEOUT,
      defaultEstimate: defaultLaunchEstimateFromEnv(config),
      restarts: runnerRestartOptionsFromEnv(config),
    }),
  ],
});
