import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CLOCK, type Clock, ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@stratavore/messaging';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';

import {
  HEARTBEAT_SIGNAL_PATTERNS,
  HeartbeatSignalsConsumer,
  RUNNER_MANAGER_CONSUMER,
} from './heartbeat-signals.consumer';
import { LocalProcessLauncher, type LocalProcessLauncherOptions } from './local-process-launcher';
import { RUNNER_LAUNCHER, type RunnerLauncher } from './runner-launcher.port';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { RunnerManagerRequestHandler } from './runner-manager.handler';
import { randomRunnerTokens, type RunnerTokenSource } from './runner-token';

export interface RunnerManagerModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  /** Options of the {@link LocalProcessLauncher}, or another launcher (Kubernetes, tests). */
  readonly launcher: LocalProcessLauncherOptions | { readonly instance: RunnerLauncher };
  /** Connections in the `runner` pool (default 10). */
  readonly poolSize?: number;
  readonly tokens?: RunnerTokenSource;
}

const RUNNER_MANAGER_DEPS = Symbol('RUNNER_MANAGER_DEPS');

/** Nest injection token of the opened {@link RunnerManagerStore}. */
export const RUNNER_MANAGER_STORE = Symbol('RUNNER_MANAGER_STORE');

/** Serves the bus patterns once the application is up; stops serving, then closes the pool. */
@Injectable()
export class RunnerManagerLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private subscriptions: Subscription[] = [];

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(RunnerManagerRequestHandler) private readonly handler: RunnerManagerRequestHandler,
    @Inject(HeartbeatSignalsConsumer) private readonly signals: HeartbeatSignalsConsumer,
    @Inject(RUNNER_MANAGER_STORE) private readonly store: RunnerManagerStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriptions.push(
      await this.bus.subscribe(
        { consumer: RUNNER_MANAGER_CONSUMER, patterns: HEARTBEAT_SIGNAL_PATTERNS },
        this.signals.handle,
      ),
      await this.bus.respond(this.handler.service, this.handler.handle),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(subscriptions.map((s) => s.cancel()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * runner-manager inside a Nest application: opens its pool on schema `runner` (migrated at
 * boot under the migration lock) and answers the `runner-manager` request patterns on the
 * `MESSAGE_BUS`. Needs `MESSAGE_BUS`, `CLOCK` and `ID_GENERATOR` from the service runtime, whose
 * `messaging` migrations create the outbox this module writes to.
 */
@Module({})
export class RunnerManagerModule {
  static forRoot(options: RunnerManagerModuleOptions): DynamicModule {
    return {
      module: RunnerManagerModule,
      providers: [
        {
          provide: RUNNER_MANAGER_STORE,
          useFactory: () =>
            RunnerManagerStore.open(options.databaseUrl, {
              poolSize: options.poolSize ?? 10,
              applicationName: 'runner-manager',
            }),
        },
        {
          provide: RUNNER_LAUNCHER,
          useFactory: (): RunnerLauncher =>
            'instance' in options.launcher
              ? options.launcher.instance
              : new LocalProcessLauncher(options.launcher),
        },
        {
          provide: RUNNER_MANAGER_DEPS,
          inject: [RUNNER_MANAGER_STORE, RUNNER_LAUNCHER, CLOCK, ID_GENERATOR],
          useFactory: (
            store: RunnerManagerStore,
            launcher: RunnerLauncher,
            clock: Clock,
            ids: IdGenerator,
          ): RunnerManagerDeps => ({
            store,
            launcher,
            clock,
            ids,
            tokens: options.tokens ?? randomRunnerTokens,
            signingKey: options.signingKey,
          }),
        },
        {
          provide: RunnerManagerRequestHandler,
          inject: [RUNNER_MANAGER_DEPS],
          useFactory: (deps: RunnerManagerDeps) => new RunnerManagerRequestHandler(deps),
        },
        {
          provide: HeartbeatSignalsConsumer,
          inject: [RUNNER_MANAGER_DEPS],
          useFactory: (deps: RunnerManagerDeps) => new HeartbeatSignalsConsumer(deps),
        },
        RunnerManagerLifecycle,
      ],
      exports: [RunnerManagerRequestHandler, RUNNER_LAUNCHER, RUNNER_MANAGER_STORE],
    };
  }
}
