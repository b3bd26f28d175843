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

import { HeartbeatController } from './heartbeat.controller';
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
  REGISTRY_PATTERNS,
  RunnerRegistryConsumer,
} from './runner-registry.consumer';
import { StaleRunnerDetector } from './stale-runner-detector';
import { type StaleRules } from './stale-runner-rules';

export interface HeartbeatIngestModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  readonly batch: BatchPolicy;
  /** A runner's interval when `runner.launched` carries none (ms). */
  readonly defaultIntervalMs: number;
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
export const HEARTBEAT_INGEST_OPTIONS = Symbol('HEARTBEAT_INGEST_OPTIONS');
const STALE_DETECTION = Symbol('STALE_DETECTION');

/** The detector and the leadership that decides whether it acts. */
interface StaleDetection {
  readonly detector: StaleRunnerDetector;
  readonly leadership: AdvisoryLeadership;
}

/**
 * Starts the consumer, the `liveness.get` responder, the flush timer and the leadership campaign
 * with the app; on shutdown stops consuming, answering and detecting, then (after the HTTP server
 * closed) writes what is buffered and closes the pool.
 */
@Injectable()
export class HeartbeatIngestLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('HeartbeatIngest');
  private subscription: Subscription | null = null;
  private responder: Subscription | null = null;
  private detectorTimer: { cancel(): void } | null = null;
  private checking: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(HEARTBEAT_STORE) private readonly store: HeartbeatStore,
    @Inject(HeartbeatBatchWriter) private readonly writer: HeartbeatBatchWriter,
    @Inject(RunnerRegistryConsumer) private readonly consumer: RunnerRegistryConsumer,
    @Inject(LivenessResponder) private readonly liveness: LivenessResponder,
    @Inject(STALE_DETECTION) private readonly detection: StaleDetection,
    @Inject(HEARTBEAT_INGEST_OPTIONS) private readonly options: HeartbeatIngestModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.subscribe(
      { consumer: HEARTBEAT_INGEST_CONSUMER, patterns: REGISTRY_PATTERNS },
      this.consumer.handle,
    );
    this.responder = await this.bus.respond(HEARTBEAT_INGEST_SERVICE, this.liveness.handle);
    this.writer.start();
    this.detection.leadership.start();
    this.detectorTimer = (this.options.scheduler ?? timerScheduler).every(
      this.options.stale.checkIntervalMs,
      () => {
        this.checking = this.checking.then(() =>
          this.detection.detector.check().catch((error: unknown) => {
            this.logger.error(`stale-runner check failed: ${String(error)}`);
          }),
        );
      },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.detectorTimer?.cancel();
    this.detectorTimer = null;
    await this.checking;
    await this.detection.leadership.stop();
    await this.subscription?.cancel();
    this.subscription = null;
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
 * heartbeat-ingest inside a Nest application: `POST /api/v1/heartbeat`, batched writes, the
 * `liveness.get` responder (bus service `heartbeat-ingest`), the registry consumer and the
 * stale-runner detector. Opens its pool on schema `heartbeat` (migrated at boot). Needs `MESSAGE_BUS`, `CLOCK` and `ID_GENERATOR` from the service runtime,
 * whose `messaging` migrations create the outbox and inbox this module writes to.
 */
@Module({})
export class HeartbeatIngestModule {
  static forRoot(options: HeartbeatIngestModuleOptions): DynamicModule {
    const metrics = heartbeatIngestMetrics();
    return {
      module: HeartbeatIngestModule,
      controllers: [HeartbeatController],
      providers: [
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
          provide: HeartbeatBatchWriter,
          inject: [HEARTBEAT_STORE, HeartbeatEventFactory],
          useFactory: (store: HeartbeatStore, events: HeartbeatEventFactory) => {
            const logger = new Logger('HeartbeatBatchWriter');
            return new HeartbeatBatchWriter({
              store,
              events,
              policy: options.batch,
              scheduler: options.scheduler,
              metrics,
              logger: { warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
            });
          },
        },
        {
          provide: IngestHeartbeat,
          inject: [HEARTBEAT_STORE, HeartbeatBatchWriter, CLOCK],
          useFactory: (store: HeartbeatStore, writer: HeartbeatBatchWriter, clock: Clock) =>
            new IngestHeartbeat({ registry: store, sink: writer, clock, metrics }),
        },
        {
          provide: RunnerRegistryConsumer,
          inject: [HEARTBEAT_STORE],
          useFactory: (store: HeartbeatStore) => {
            const logger = new Logger('RunnerRegistryConsumer');
            return new RunnerRegistryConsumer({
              store,
              defaultIntervalMs: options.defaultIntervalMs,
              logger: { warn: (m) => logger.warn(m) },
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
      exports: [HEARTBEAT_STORE, HeartbeatBatchWriter, StaleRunnerDetector],
    };
  }
}
