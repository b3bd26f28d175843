import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CLOCK, type Clock, ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@stratavore/messaging';
import { AdvisoryLeadership } from '@stratavore/persistence';
import { RunnerManagerStore } from '@stratavore/runner-manager-data-access';
import { type LaunchEstimate, type RestartBackoff } from '@stratavore/runner-manager-domain';

import {
  BUDGET_ENFORCEMENT_PATTERNS,
  BudgetEnforcementConsumer,
} from './budget-enforcement.consumer';
import { BusBudgetGate } from './bus-budget-gate';
import { BusSessionLookup } from './bus-session-lookup';
import {
  HEARTBEAT_SIGNAL_PATTERNS,
  HeartbeatSignalsConsumer,
  RUNNER_MANAGER_CONSUMER,
} from './heartbeat-signals.consumer';
import { LocalProcessLauncher, type LocalProcessLauncherOptions } from './local-process-launcher';
import { intervalRestartTimer, RestartScheduler, type RestartTimer } from './restart-scheduler';
import { RUNNER_LAUNCHER, type RunnerLauncher } from './runner-launcher.port';
import { type RunnerManagerDeps } from './runner-lifecycle';
import { RunnerManagerRequestHandler } from './runner-manager.handler';
import { randomRunnerTokens, type RunnerTokenSource } from './runner-token';
import { SESSION_SIGNAL_PATTERNS, SessionSignalsConsumer } from './session-signals.consumer';

export interface RunnerManagerModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  /** Options of the {@link LocalProcessLauncher}, or another launcher (Kubernetes, tests). */
  readonly launcher: LocalProcessLauncherOptions | { readonly instance: RunnerLauncher };
  /** Connections in the `runner` pool (default 10). */
  readonly poolSize?: number;
  readonly tokens?: RunnerTokenSource;
  /**
   * `enforce`: reserve every launch's estimate in budget-service over the bus before it starts
   * (refused or unreachable: the launch fails) and stop runners of hard budgets when exceeded;
   * `off` (the default here): never ask budget-service. The apps pass `BUDGETS`, whose own
   * default is `enforce`.
   */
  readonly budgets?: 'enforce' | 'off';
  /** How long a request to budget-service may take (`BUDGET_REQUEST_TIMEOUT`, default 5 000 ms). */
  readonly budgetRequestTimeoutMs?: number;
  /**
   * What a launch reserves when neither it nor its project names an estimate
   * (`BUDGET_DEFAULT_ESTIMATE_TOKENS`, `BUDGET_DEFAULT_ESTIMATE_USD`; default nothing).
   */
  readonly defaultEstimate?: LaunchEstimate;
  /** How long a request to session-store may take (`runners.resume`; default 5 000 ms). */
  readonly sessionRequestTimeoutMs?: number;
  /** Restarts of runners with policy `on-failure` (docs/runners.md, "Restart policy"). */
  readonly restarts?: RunnerRestartOptions;
}

/** How planned restarts are relaunched. */
export interface RunnerRestartOptions {
  /** Backoff between restarts (`RESTART_BACKOFF_BASE` / `RESTART_BACKOFF_MAX`). */
  readonly backoff?: RestartBackoff;
  /** How often the leader looks for due restarts (`RESTART_CHECK_INTERVAL`, default 2 000 ms). */
  readonly checkIntervalMs?: number;
  /** Leadership campaign interval (default 2 000 ms). */
  readonly leadershipIntervalMs?: number;
  /** Timers; tests pass their own or drive the scheduler themselves. */
  readonly timer?: RestartTimer;
  /** Jitter source in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/** The restart scheduler and the leadership that decides whether it acts. */
interface RestartScheduling {
  readonly scheduler: RestartScheduler;
  readonly leadership: AdvisoryLeadership;
  readonly checkIntervalMs: number;
  readonly timer: RestartTimer;
}

const RESTART_SCHEDULING = Symbol('RESTART_SCHEDULING');

const RUNNER_MANAGER_DEPS = Symbol('RUNNER_MANAGER_DEPS');

/** Nest injection token of the opened {@link RunnerManagerStore}. */
export const RUNNER_MANAGER_STORE = Symbol('RUNNER_MANAGER_STORE');

/** Serves the bus patterns once the application is up; stops serving, then closes the pool. */
@Injectable()
export class RunnerManagerLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private subscriptions: Subscription[] = [];
  private restartTimer: { cancel(): void } | null = null;
  private restarting: Promise<unknown> = Promise.resolve();
  private readonly logger = new Logger('RunnerManager');

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(RunnerManagerRequestHandler) private readonly handler: RunnerManagerRequestHandler,
    @Inject(HeartbeatSignalsConsumer) private readonly signals: HeartbeatSignalsConsumer,
    @Inject(BudgetEnforcementConsumer) private readonly budgetStops: BudgetEnforcementConsumer,
    @Inject(SessionSignalsConsumer) private readonly sessionSignals: SessionSignalsConsumer,
    @Inject(RESTART_SCHEDULING) private readonly restarts: RestartScheduling,
    @Inject(RUNNER_MANAGER_STORE) private readonly store: RunnerManagerStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // One consumer queue (and inbox name) for everything runner-manager hears.
    this.subscriptions.push(
      await this.bus.subscribe(
        {
          consumer: RUNNER_MANAGER_CONSUMER,
          patterns: [
            ...HEARTBEAT_SIGNAL_PATTERNS,
            ...BUDGET_ENFORCEMENT_PATTERNS,
            ...SESSION_SIGNAL_PATTERNS,
          ],
        },
        (event) =>
          this.budgetStops.accepts(event.envelope.type)
            ? this.budgetStops.handle(event)
            : this.sessionSignals.accepts(event.envelope.type)
              ? this.sessionSignals.handle(event)
              : this.signals.handle(event),
      ),
      await this.bus.respond(this.handler.service, this.handler.handle),
    );
    this.restarts.leadership.start();
    this.restartTimer = this.restarts.timer.every(this.restarts.checkIntervalMs, () => {
      this.restarting = this.restarting.then(() =>
        this.restarts.scheduler.tick().catch((error: unknown) => {
          this.logger.error(`restart check failed: ${String(error)}`);
        }),
      );
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.restartTimer?.cancel();
    this.restartTimer = null;
    await this.restarting;
    await this.restarts.leadership.stop();
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
          inject: [RUNNER_MANAGER_STORE, RUNNER_LAUNCHER, CLOCK, ID_GENERATOR, MESSAGE_BUS],
          useFactory: (
            store: RunnerManagerStore,
            launcher: RunnerLauncher,
            clock: Clock,
            ids: IdGenerator,
            bus: MessageBus,
          ): RunnerManagerDeps => ({
            store,
            launcher,
            clock,
            ids,
            tokens: options.tokens ?? randomRunnerTokens,
            signingKey: options.signingKey,
            sessions: new BusSessionLookup(bus, {
              ...(options.sessionRequestTimeoutMs === undefined
                ? {}
                : { timeoutMs: options.sessionRequestTimeoutMs }),
            }),
            ...(options.restarts?.backoff === undefined
              ? {}
              : { restartBackoff: options.restarts.backoff }),
            ...(options.restarts?.random === undefined ? {} : { random: options.restarts.random }),
            ...(options.defaultEstimate === undefined
              ? {}
              : { defaultEstimate: options.defaultEstimate }),
            ...(options.budgets === 'enforce'
              ? {
                  budgets: new BusBudgetGate(bus, {
                    ...(options.budgetRequestTimeoutMs === undefined
                      ? {}
                      : { timeoutMs: options.budgetRequestTimeoutMs }),
                  }),
                }
              : {}),
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
        {
          provide: BudgetEnforcementConsumer,
          inject: [RUNNER_MANAGER_DEPS],
          useFactory: (deps: RunnerManagerDeps) => new BudgetEnforcementConsumer(deps),
        },
        {
          provide: SessionSignalsConsumer,
          inject: [RUNNER_MANAGER_DEPS],
          useFactory: (deps: RunnerManagerDeps) => new SessionSignalsConsumer(deps),
        },
        {
          provide: RESTART_SCHEDULING,
          inject: [RUNNER_MANAGER_DEPS],
          useFactory: (deps: RunnerManagerDeps): RestartScheduling => {
            const logger = new Logger('RestartScheduler');
            // The leadership is asked by the scheduler, which it is built for.
            let leadership: AdvisoryLeadership | null = null;
            const scheduler = new RestartScheduler(deps, {
              isLeader: () => leadership?.isLeader() ?? false,
            });
            leadership = new AdvisoryLeadership({
              url: options.databaseUrl,
              key: 'runner-manager:restart-scheduler',
              ...(options.restarts?.leadershipIntervalMs === undefined
                ? {}
                : { intervalMs: options.restarts.leadershipIntervalMs }),
              applicationName: 'runner-manager:leadership',
              onElected: () => logger.log('elected: this replica relaunches planned restarts'),
              onError: (error) => logger.warn(`leadership: ${String(error)}`),
            });
            return {
              scheduler,
              leadership,
              checkIntervalMs: options.restarts?.checkIntervalMs ?? 2_000,
              timer: options.restarts?.timer ?? intervalRestartTimer,
            };
          },
        },
        RunnerManagerLifecycle,
      ],
      exports: [RunnerManagerRequestHandler, RUNNER_LAUNCHER, RUNNER_MANAGER_STORE],
    };
  }
}
