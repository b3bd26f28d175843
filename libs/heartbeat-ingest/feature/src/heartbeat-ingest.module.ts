import { randomBytes } from 'node:crypto';

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
import { HEARTBEAT_INGEST_SERVICE } from '@stratavore/contracts';
import { CLOCK, type Clock, ID_GENERATOR, type IdGenerator } from '@stratavore/core';
import { HeartbeatStore } from '@stratavore/heartbeat-ingest-data-access';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@stratavore/messaging';
import { AdvisoryLeadership } from '@stratavore/persistence';

import { HeartbeatRoute } from './heartbeat.route';
import {
  type BatchPolicy,
  HeartbeatBatchWriter,
  type Scheduler,
  timerScheduler,
} from './heartbeat-batch-writer';
import { HeartbeatEventFactory } from './heartbeat-events';
import { heartbeatIngestMetrics } from './heartbeat-ingest.metrics';
import { IngestHeartbeat } from './ingest-heartbeat.use-case';
import { LivenessResponder } from './liveness.responder';
import {
  HEARTBEAT_INGEST_CONSUMER,
  REGISTRY_FOLLOW_PATTERNS,
  REGISTRY_PATTERNS,
  RunnerRegistryConsumer,
  RunnerRegistryFollower,
} from './runner-registry.consumer';
import { RunnerRegistryCache } from './runner-registry-cache';
import { StaleRunnerDetector } from './stale-runner-detector';
import { type StaleRules } from './stale-runner-rules';

export interface HeartbeatIngestModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  readonly batch: BatchPolicy;
  /** A runner's interval when `runner.launched` carries none (ms). */
  readonly defaultIntervalMs: number;
  /**
   * How long this replica trusts its cached registry row of a runner without reading it again
   * (default 30 000 ms); events and flushes refresh it meanwhile.
   */
  readonly registryTtlMs?: number;
  /**
   * Names this replica's transient queue of registry changes
   * (`<consumer>.registry.<instanceId>`); default: random per process.
   */
  readonly instanceId?: string;
  /**
   * The registry consumer's queue and inbox name (default `heartbeat-ingest`); replicas share
   * it. Tests give each suite its own.
   */
  readonly consumer?: string;
  /** Monotonic milliseconds of the registry cache's TTL; tests pass a manual one. */
  readonly monotonicNow?: () => number;
  readonly stale: StaleRules & { readonly checkIntervalMs: number };
  /** Leadership campaign interval (default 2 000 ms). */
  readonly leadershipIntervalMs?: number;
  /** Connections in the `heartbeat` pool (default 10). */
  readonly poolSize?: number;
  /** Timers; tests pass a manual one. */
  readonly scheduler?: Scheduler;
  /** Sees every SQL statement of the store (diagnostics, tests). */
  readonly observeQueries?: (sql: string) => void;
}

export const HEARTBEAT_STORE = Symbol('HEARTBEAT_STORE');
const DEFAULT_REGISTRY_TTL_MS = 30_000;
export const HEARTBEAT_INGEST_OPTIONS = Symbol('HEARTBEAT_INGEST_OPTIONS');
const STALE_DETECTION = Symbol('STALE_DETECTION');

/** The detector and the leadership that decides whether it acts. */
interface StaleDetection {
  readonly detector: StaleRunnerDetector;
  readonly leadership: AdvisoryLeadership;
}

/**
 * Starts, with the app: this replica's transient subscription to registry changes, the registry
 * consumer, the registry cache (preloaded with the active runners, swept every TTL), the
 * `liveness.get` responder, the flush timer and the leadership campaign. On shutdown stops
 * consuming, following, answering and detecting, then (after the HTTP server closed) writes what
 * is buffered and closes the pool.
 */
@Injectable()
export class HeartbeatIngestLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('HeartbeatIngest');
  private subscription: Subscription | null = null;
  private following: Subscription | null = null;
  private responder: Subscription | null = null;
  private detectorTimer: { cancel(): void } | null = null;
  private sweepTimer: { cancel(): void } | null = null;
  private checking: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(HEARTBEAT_STORE) private readonly store: HeartbeatStore,
    @Inject(HeartbeatBatchWriter) private readonly writer: HeartbeatBatchWriter,
    @Inject(RunnerRegistryConsumer) private readonly consumer: RunnerRegistryConsumer,
    @Inject(RunnerRegistryCache) private readonly cache: RunnerRegistryCache,
    @Inject(LivenessResponder) private readonly liveness: LivenessResponder,
    @Inject(STALE_DETECTION) private readonly detection: StaleDetection,
    @Inject(HEARTBEAT_INGEST_OPTIONS) private readonly options: HeartbeatIngestModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const consumer = this.options.consumer ?? HEARTBEAT_INGEST_CONSUMER;
    const scheduler = this.options.scheduler ?? timerScheduler;
    // Follow changes first, so none committed during the bulk read below goes unseen.
    const follower = new RunnerRegistryFollower((change) => this.cache.apply(change));
    this.following = await this.bus.subscribe(
      {
        consumer: `${consumer}.registry.${this.options.instanceId ?? randomBytes(4).toString('hex')}`,
        patterns: REGISTRY_FOLLOW_PATTERNS,
        transient: true,
      },
      follower.handle,
    );
    this.subscription = await this.bus.subscribe(
      { consumer, patterns: REGISTRY_PATTERNS },
      this.consumer.handle,
    );
    try {
      this.cache.confirm(await this.store.listActiveRunnerAccess());
    } catch (error) {
      // Not fatal: each runner is then read on its first heartbeat.
      this.logger.warn(`could not preload the registry cache: ${String(error)}`);
    }
    this.sweepTimer = scheduler.every(this.options.registryTtlMs ?? DEFAULT_REGISTRY_TTL_MS, () =>
      this.cache.sweep(),
    );
    this.responder = await this.bus.respond(HEARTBEAT_INGEST_SERVICE, this.liveness.handle);
    this.writer.start();
    this.detection.leadership.start();
    this.detectorTimer = scheduler.every(this.options.stale.checkIntervalMs, () => {
      this.checking = this.checking.then(() =>
        this.detection.detector.check().catch((error: unknown) => {
          this.logger.error(`stale-runner check failed: ${String(error)}`);
        }),
      );
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.detectorTimer?.cancel();
    this.detectorTimer = null;
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
    await this.checking;
    await this.detection.leadership.stop();
    await this.subscription?.cancel();
    this.subscription = null;
    await this.following?.cancel();
    this.following = null;
    await this.responder?.cancel();
    this.responder = null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.stop().catch((error: unknown) => {
      this.logger.error(`final heartbeat flush failed: ${String(error)}`);
    });
    await this.store.close();
  }
}

/**
 * heartbeat-ingest inside a Nest application: `POST /api/v1/heartbeat` (checked against this
 * replica's registry cache), batched writes, the `liveness.get` responder (bus service
 * `heartbeat-ingest`), the registry consumer and the stale-runner detector. Opens its pool on
 * schema `heartbeat` (migrated at boot). Needs `MESSAGE_BUS`, `CLOCK` and `ID_GENERATOR` from the
 * service runtime, whose `messaging` migrations create the outbox and inbox this module writes
 * to.
 */
@Module({})
export class HeartbeatIngestModule {
  static forRoot(options: HeartbeatIngestModuleOptions): DynamicModule {
    const metrics = heartbeatIngestMetrics();
    return {
      module: HeartbeatIngestModule,
      providers: [
        HeartbeatRoute,
        { provide: HEARTBEAT_INGEST_OPTIONS, useValue: options },
        {
          provide: HEARTBEAT_STORE,
          useFactory: () =>
            HeartbeatStore.open(options.databaseUrl, {
              poolSize: options.poolSize ?? 10,
              applicationName: 'heartbeat-ingest',
              observeQueries: options.observeQueries,
            }),
        },
        {
          provide: HeartbeatEventFactory,
          inject: [CLOCK, ID_GENERATOR],
          useFactory: (clock: Clock, ids: IdGenerator) =>
            new HeartbeatEventFactory({ clock, ids, signingKey: options.signingKey }),
        },
        {
          provide: RunnerRegistryCache,
          inject: [HEARTBEAT_STORE],
          useFactory: (store: HeartbeatStore) =>
            new RunnerRegistryCache({
              source: store,
              ttlMs: options.registryTtlMs ?? DEFAULT_REGISTRY_TTL_MS,
              metrics,
              now: options.monotonicNow,
            }),
        },
        {
          provide: HeartbeatBatchWriter,
          inject: [HEARTBEAT_STORE, HeartbeatEventFactory, RunnerRegistryCache],
          useFactory: (
            store: HeartbeatStore,
            events: HeartbeatEventFactory,
            cache: RunnerRegistryCache,
          ) => {
            const logger = new Logger('HeartbeatBatchWriter');
            return new HeartbeatBatchWriter({
              store,
              events,
              policy: options.batch,
              scheduler: options.scheduler,
              metrics,
              logger: { warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
              flushed: (locked) => cache.confirm(locked),
            });
          },
        },
        {
          provide: IngestHeartbeat,
          inject: [HEARTBEAT_STORE, RunnerRegistryCache, HeartbeatBatchWriter, CLOCK],
          useFactory: (
            store: HeartbeatStore,
            cache: RunnerRegistryCache,
            writer: HeartbeatBatchWriter,
            clock: Clock,
          ) =>
            new IngestHeartbeat({
              registry: {
                findRunner: (runnerId) => cache.find(runnerId),
                findRunnerIdByTokenHash: (hash) => store.findRunnerIdByTokenHash(hash),
              },
              sink: writer,
              clock,
              metrics,
            }),
        },
        {
          provide: RunnerRegistryConsumer,
          inject: [HEARTBEAT_STORE, RunnerRegistryCache],
          useFactory: (store: HeartbeatStore, cache: RunnerRegistryCache) => {
            const logger = new Logger('RunnerRegistryConsumer');
            return new RunnerRegistryConsumer({
              store,
              defaultIntervalMs: options.defaultIntervalMs,
              logger: { warn: (m) => logger.warn(m) },
              committed: (change) => cache.apply(change),
              consumer: options.consumer,
            });
          },
        },
        {
          provide: LivenessResponder,
          inject: [HEARTBEAT_STORE, HeartbeatBatchWriter],
          useFactory: (store: HeartbeatStore, writer: HeartbeatBatchWriter) =>
            new LivenessResponder({ store, buffer: writer }),
        },
        {
          provide: STALE_DETECTION,
          inject: [HEARTBEAT_STORE, CLOCK, HeartbeatEventFactory, HeartbeatBatchWriter],
          useFactory: (
            store: HeartbeatStore,
            clock: Clock,
            events: HeartbeatEventFactory,
            writer: HeartbeatBatchWriter,
          ): StaleDetection => {
            const logger = new Logger('StaleRunnerDetector');
            // The leadership calls back into the detector, which asks it who leads.
            let leadership: AdvisoryLeadership | null = null;
            const detector = new StaleRunnerDetector({
              store,
              leadership: { isLeader: () => leadership?.isLeader() ?? false },
              clock,
              events,
              rules: options.stale,
              metrics,
              logger: { warn: (m) => logger.warn(m) },
              beforeScan: () => writer.flush(),
            });
            leadership = new AdvisoryLeadership({
              url: options.databaseUrl,
              key: 'heartbeat-ingest:stale-runner-detector',
              intervalMs: options.leadershipIntervalMs,
              applicationName: 'heartbeat-ingest:leadership',
              onElected: () => {
                detector.onElected();
                logger.log('elected: this replica detects stale runners');
              },
              onDemoted: () => detector.onDemoted(),
              onError: (error) => logger.warn(`leadership: ${String(error)}`),
            });
            return { detector, leadership };
          },
        },
        {
          provide: StaleRunnerDetector,
          inject: [STALE_DETECTION],
          useFactory: (detection: StaleDetection) => detection.detector,
        },
        HeartbeatIngestLifecycle,
      ],
      exports: [HEARTBEAT_STORE, HeartbeatBatchWriter, RunnerRegistryCache, StaleRunnerDetector],
    };
  }
}
