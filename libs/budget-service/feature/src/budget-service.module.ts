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
import { BudgetStore } from '@stratavore/budget-service-data-access';
import { CLOCK, type Clock, ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@stratavore/messaging';
import { AdvisoryLeadership } from '@stratavore/persistence';

import { BudgetBook } from './budget-book';
import {
  BUDGET_EVENT_PATTERNS,
  BUDGET_SERVICE_CONSUMER,
  BudgetEventsConsumer,
} from './budget-events.consumer';
import { type BudgetServiceDeps } from './budget-service.deps';
import { BudgetServiceRequestHandler } from './budget-service.handler';
import { budgetServiceMetrics } from './budget-service.metrics';
import { PeriodRoller } from './period-roller';
import { storeUsedRatios, type UsedRatioGauge, type UsedRatioSource } from './used-ratio-gauge';

export interface BudgetServiceModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  /** Connections in the `budget` pool (default 10). */
  readonly poolSize?: number;
  /** How long a request waits for a pool connection before failing (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * The longest the period roller sleeps between looks (default 5 000 ms); it otherwise wakes
   * exactly when the earliest open period ends.
   */
  readonly rollCheckIntervalMs?: number;
  /** Leadership campaign interval (default 2 000 ms). */
  readonly leadershipIntervalMs?: number;
  /** Start the roller's timer (default true; tests drive {@link PeriodRoller.tick} themselves). */
  readonly rollerTimer?: boolean;
}

/** Nest injection token of the opened {@link BudgetStore}. */
export const BUDGET_STORE = Symbol('BUDGET_STORE');
export const BUDGET_SERVICE_OPTIONS = Symbol('BUDGET_SERVICE_OPTIONS');
const BUDGET_SERVICE_DEPS = Symbol('BUDGET_SERVICE_DEPS');
const ROLLER_LEADERSHIP = Symbol('ROLLER_LEADERSHIP');
const USED_RATIO_TRACKING = Symbol('USED_RATIO_TRACKING');

/** Lets `stratavore_budget_used_ratio` read this module's store from bootstrap to shutdown. */
class UsedRatioTracking implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private untrack: (() => void) | null = null;

  constructor(
    private readonly gauge: UsedRatioGauge,
    private readonly source: UsedRatioSource,
  ) {}

  onApplicationBootstrap(): void {
    this.untrack = this.gauge.track(this.source);
  }

  // Before the lifecycle's onApplicationShutdown closes the store.
  beforeApplicationShutdown(): void {
    this.untrack?.();
    this.untrack = null;
  }
}

/**
 * Serves the bus patterns and consumes events once the application is up, and runs the period
 * roller while this replica leads; on shutdown stops all of it, then closes the pool.
 */
@Injectable()
export class BudgetServiceLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('BudgetService');
  private subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(BudgetServiceRequestHandler) private readonly handler: BudgetServiceRequestHandler,
    @Inject(BudgetEventsConsumer) private readonly consumer: BudgetEventsConsumer,
    @Inject(PeriodRoller) private readonly roller: PeriodRoller,
    @Inject(ROLLER_LEADERSHIP) private readonly leadership: AdvisoryLeadership,
    @Inject(BUDGET_STORE) private readonly store: BudgetStore,
    @Inject(BUDGET_SERVICE_OPTIONS) private readonly options: BudgetServiceModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriptions.push(
      await this.bus.subscribe(
        { consumer: BUDGET_SERVICE_CONSUMER, patterns: BUDGET_EVENT_PATTERNS },
        this.consumer.handle,
      ),
      await this.bus.respond(this.handler.service, this.handler.handle),
    );
    this.leadership.start();
    if (this.options.rollerTimer ?? true) this.schedule(0);
  }

  /** Runs the roller now instead of at its next planned moment (a budget changed, elected). */
  wake(): void {
    if (this.stopped || !(this.options.rollerTimer ?? true)) return;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ticking = this.ticking.then(() => this.runOnce());
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const maxMs = this.options.rollCheckIntervalMs ?? 5_000;
    let delay = maxMs;
    try {
      await this.roller.tick();
      delay = await this.roller.delayBeforeNextTick(maxMs);
    } catch (error) {
      this.logger.error(`period roller failed: ${String(error)}`);
      delay = Math.min(maxMs, 1_000);
    }
    // A period that ended but could not be rolled yet (another replica holds its lock) is
    // looked at again shortly rather than in a tight loop.
    this.schedule(Math.max(delay, 10));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await this.leadership.stop();
    const subscriptions = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(subscriptions.map((s) => s.cancel()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * budget-service inside a Nest application: opens its pool on schema `budget` (migrated at
 * boot under the migration lock), answers the `budget-service` request patterns, consumes
 * `usage.reported` and the runners' ends (durable consumer `budget-service`, inbox), and rolls
 * periods on time while it leads (`AdvisoryLeadership`, key `budget-service:period-roller`).
 * Needs `MESSAGE_BUS`, `CLOCK` and `ID_GENERATOR` from the service runtime, whose `messaging`
 * migrations create the outbox and inbox this module writes to.
 */
@Module({})
export class BudgetServiceModule {
  static forRoot(options: BudgetServiceModuleOptions): DynamicModule {
    const metrics = budgetServiceMetrics();
    // The handler and the leadership are built before the lifecycle that wakes the roller.
    let lifecycle: BudgetServiceLifecycle | null = null;
    return {
      module: BudgetServiceModule,
      providers: [
        { provide: BUDGET_SERVICE_OPTIONS, useValue: options },
        {
          provide: BUDGET_STORE,
          useFactory: () =>
            BudgetStore.open(options.databaseUrl, {
              poolSize: options.poolSize ?? 10,
              applicationName: 'budget-service',
              connectTimeoutMs: options.connectTimeoutMs,
            }),
        },
        {
          provide: BUDGET_SERVICE_DEPS,
          inject: [BUDGET_STORE, CLOCK, ID_GENERATOR],
          useFactory: (store: BudgetStore, clock: Clock, ids: IdGenerator): BudgetServiceDeps => ({
            store,
            clock,
            ids,
            signingKey: options.signingKey,
            metrics,
          }),
        },
        {
          provide: BudgetServiceRequestHandler,
          inject: [BUDGET_SERVICE_DEPS],
          useFactory: (deps: BudgetServiceDeps) =>
            // The used-ratio gauge reads the store when scraped: only the roller hears of changes.
            new BudgetServiceRequestHandler(deps, { changed: () => lifecycle?.wake() }),
        },
        {
          provide: BudgetEventsConsumer,
          inject: [BUDGET_SERVICE_DEPS],
          useFactory: (deps: BudgetServiceDeps) => new BudgetEventsConsumer(deps),
        },
        {
          provide: ROLLER_LEADERSHIP,
          useFactory: () => {
            const logger = new Logger('PeriodRoller');
            return new AdvisoryLeadership({
              url: options.databaseUrl,
              key: 'budget-service:period-roller',
              intervalMs: options.leadershipIntervalMs,
              applicationName: 'budget-service:leadership',
              onElected: () => {
                logger.log('elected: this replica rolls budget periods');
                lifecycle?.wake();
              },
              onError: (error) => logger.warn(`leadership: ${String(error)}`),
            });
          },
        },
        {
          provide: PeriodRoller,
          inject: [BUDGET_SERVICE_DEPS, ROLLER_LEADERSHIP],
          useFactory: (deps: BudgetServiceDeps, leadership: AdvisoryLeadership) =>
            new PeriodRoller({
              store: deps.store,
              clock: deps.clock,
              book: new BudgetBook(deps),
              leadership,
              metrics,
            }),
        },
        {
          provide: USED_RATIO_TRACKING,
          inject: [BUDGET_STORE, CLOCK],
          useFactory: (store: BudgetStore, clock: Clock) =>
            new UsedRatioTracking(metrics.usedRatio, storeUsedRatios(store, clock)),
        },
        {
          provide: BudgetServiceLifecycle,
          inject: [
            MESSAGE_BUS,
            BudgetServiceRequestHandler,
            BudgetEventsConsumer,
            PeriodRoller,
            ROLLER_LEADERSHIP,
            BUDGET_STORE,
            BUDGET_SERVICE_OPTIONS,
          ],
          useFactory: (
            bus: MessageBus,
            handler: BudgetServiceRequestHandler,
            consumer: BudgetEventsConsumer,
            roller: PeriodRoller,
            leadership: AdvisoryLeadership,
            store: BudgetStore,
            moduleOptions: BudgetServiceModuleOptions,
          ) => {
            lifecycle = new BudgetServiceLifecycle(
              bus,
              handler,
              consumer,
              roller,
              leadership,
              store,
              moduleOptions,
            );
            return lifecycle;
          },
        },
      ],
      exports: [BUDGET_STORE, BudgetServiceRequestHandler, BudgetEventsConsumer, PeriodRoller],
    };
  }
}
