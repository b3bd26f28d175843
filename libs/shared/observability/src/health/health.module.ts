import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { HealthController } from './health.controller';
import { READINESS_CHECKS, READINESS_TIMEOUT_MS, type ReadinessCheck } from './readiness-check';

export interface HealthModuleOptions {
  /** Checks `GET /health/ready` runs; none means ready as soon as the app is up. */
  readonly checks?: readonly ReadinessCheck[];
  /** Per-check time limit; a check that takes longer counts as failed. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export interface HealthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Builds the checks from injected providers (a DataSource, the message bus, ...). */
  readonly useFactory: (
    ...deps: never[]
  ) => readonly ReadinessCheck[] | Promise<readonly ReadinessCheck[]>;
  readonly inject?: ReadonlyArray<string | symbol | (abstract new (...args: never[]) => unknown)>;
  readonly timeoutMs?: number;
}

/**
 * `GET /health/live` (liveness: 200 while the event loop runs) and `GET /health/ready`
 * (readiness: 200 only when every `ReadinessCheck` passes, 503 naming the failing ones).
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: READINESS_CHECKS, useValue: options.checks ?? [] },
        { provide: READINESS_TIMEOUT_MS, useValue: options.timeoutMs ?? 5_000 },
      ],
    };
  }

  static forRootAsync(options: HealthModuleAsyncOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        {
          provide: READINESS_CHECKS,
          useFactory: options.useFactory as (...deps: unknown[]) => unknown,
          inject: [...(options.inject ?? [])],
        },
        { provide: READINESS_TIMEOUT_MS, useValue: options.timeoutMs ?? 5_000 },
      ],
    };
  }
}
