import { randomBytes, randomUUID } from 'node:crypto';

import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { GatewayDatabase } from '@stratavore/api-gateway-data-access';
import { CLOCK, type Clock } from '@stratavore/core';

import { BudgetServiceClient } from './api/budget-service.client';
import { BudgetsController } from './api/budgets.controller';
import { ProjectNames } from './api/project-names';
import { ProjectsController } from './api/projects.controller';
import { PROJECT_CACHE, ReadCache, RUNNER_LIST_CACHE } from './api/read-cache';
import { RunnerAttachController } from './api/runner-attach.controller';
import { RunnerListFreshness } from './api/runner-list.freshness';
import { RunnerLivenessEnricher } from './api/runner-liveness.enricher';
import { RunnerManagerClient } from './api/runner-manager.client';
import { RunnersController } from './api/runners.controller';
import { SessionResumeController } from './api/session-resume.controller';
import { SessionStoreClient } from './api/session-store.client';
import { SessionsController } from './api/sessions.controller';
import { StatusController } from './api/status.controller';
import { WorktreesController } from './api/worktrees.controller';
import {
  GATEWAY_OPTIONS,
  type GatewayOptions,
  type GatewayOptionsInput,
  gatewayOptionsSchema,
} from './api-gateway.options';
import { DocsPublisher } from './docs/docs-publisher';
import { EventStreamHub } from './events/event-stream.hub';
import { EventsController } from './events/events.controller';
import { GatewayExceptionFilter } from './http/gateway-exception.filter';
import { ApiKeyGuard } from './keys/api-key.guard';
import { ApiKeyService } from './keys/api-key.service';
import {
  BOOTSTRAP_API_KEY,
  GATEWAY_DATABASE,
  KEY_RANDOMNESS,
  VERIFIED_KEY_CACHE,
} from './keys/api-key.tokens';
import { ApiKeyThrottlerGuard } from './keys/api-key-throttler.guard';
import { ApiKeysController } from './keys/api-keys.controller';
import { BootstrapAdminKeyProvisioner } from './keys/bootstrap-admin-key.provisioner';
import { SlidingWindowRateLimitStorage } from './keys/sliding-window-rate-limit.storage';
import { VerifiedKeyCache } from './keys/verified-key-cache';

@Injectable()
class GatewayDatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_DATABASE) private readonly database: GatewayDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * The public HTTP API: `/api/v1/...` (API keys, scopes, per-key rate limit, validation with the
 * contracts, requests to the services over the bus), the event stream at `/api/v1/events`, and
 * the OpenAPI document at `/docs-json` with Swagger UI at `/docs`. Needs the global providers of
 * `ServiceRuntimeModule` (MESSAGE_BUS, CLOCK, ID_GENERATOR); leaves every other route of the
 * application alone, so the daemon can load it beside the other services.
 */
@Module({})
export class ApiGatewayModule {
  static forRoot(input: GatewayOptionsInput): DynamicModule {
    const parsed = gatewayOptionsSchema.parse(input);
    const options: GatewayOptions = {
      ...parsed,
      instanceId: parsed.instanceId ?? randomUUID().slice(0, 8),
    };
    return {
      module: ApiGatewayModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'default', ttl: options.rateLimit.windowMs, limit: options.rateLimit.limit },
          ],
          storage: new SlidingWindowRateLimitStorage(),
        }),
      ],
      controllers: [
        ProjectsController,
        RunnersController,
        RunnerAttachController,
        StatusController,
        ApiKeysController,
        EventsController,
        SessionsController,
        SessionResumeController,
        BudgetsController,
        WorktreesController,
      ],
      providers: [
        { provide: GATEWAY_OPTIONS, useValue: options },
        {
          provide: GATEWAY_DATABASE,
          useFactory: async () => {
            const database = new GatewayDatabase({ url: options.databaseUrl });
            const applied = await database.open();
            if (applied.length > 0) {
              new Logger('ApiGateway').log(`gateway migrations applied: ${applied.join(', ')}`);
            }
            return database;
          },
        },
        { provide: KEY_RANDOMNESS, useValue: (size: number) => randomBytes(size) },
        {
          provide: VERIFIED_KEY_CACHE,
          inject: [CLOCK],
          useFactory: (clock: Clock) => new VerifiedKeyCache(options.apiKeyCache, clock),
        },
        {
          provide: RUNNER_LIST_CACHE,
          inject: [CLOCK],
          useFactory: (clock: Clock) => new ReadCache(options.runnerListCache, clock),
        },
        {
          provide: PROJECT_CACHE,
          inject: [CLOCK],
          useFactory: (clock: Clock) => {
            const cache = new ReadCache(options.projectCache, clock);
            // No event announces a project change: only the TTL and this gateway's commands.
            cache.listenTo(() => true);
            return cache;
          },
        },
        RunnerListFreshness,
        { provide: BOOTSTRAP_API_KEY, useValue: options.bootstrapKey ?? null },
        GatewayDatabaseLifecycle,
        ApiKeyService,
        BootstrapAdminKeyProvisioner,
        ApiKeyGuard,
        ApiKeyThrottlerGuard,
        GatewayExceptionFilter,
        RunnerManagerClient,
        SessionStoreClient,
        ProjectNames,
        BudgetServiceClient,
        RunnerLivenessEnricher,
        EventStreamHub,
        DocsPublisher,
      ],
      exports: [ApiKeyService],
    };
  }
}
