import { join } from 'node:path';

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
import {
  type BlobStore,
  LocalFilesystemBlobStore,
  SessionDatabase,
} from '@stratavore/session-store-data-access';

import { listPriceWeights } from './price-weights';
import { SessionEventFactory } from './session-events.factory';
import { SessionQueries } from './session-queries';
import { type PriceWeights } from './session-rules';
import { type SessionStoreConfig } from './session-store.config';
import {
  SESSION_STORE_CONSUMER,
  SESSION_STORE_PATTERNS,
  SessionStoreConsumer,
} from './session-store.consumer';
import { SessionStoreRequestHandler } from './session-store.handler';
import { TranscriptBodyParsers, TranscriptUploadController } from './transcript-upload.controller';
import { type UploadLimits, UploadTranscript } from './upload-transcript.use-case';

export interface SessionStoreModuleOptions {
  readonly databaseUrl: string;
  /** HMAC key of event envelopes (`EVENT_SIGNING_KEY`). */
  readonly signingKey: string;
  /** Where transcripts go: a directory (local filesystem), or another store (S3, tests). */
  readonly blobStore: { readonly dir: string } | { readonly instance: BlobStore };
  readonly transcripts: UploadLimits;
  /** Connections in the `session` pool (default 10). */
  readonly poolSize?: number;
  /** Weights that split a run's cost over its models (default: list prices). */
  readonly priceWeights?: PriceWeights;
}

/** Nest injection tokens of the opened database and the blob store. */
export const SESSION_DATABASE = Symbol('SESSION_DATABASE');
export const BLOB_STORE = Symbol('BLOB_STORE');

/** The module's options from the validated environment (the app and the daemon share this). */
export function sessionStoreOptionsFromEnv(
  databaseUrl: string,
  signingKey: string,
  env: SessionStoreConfig,
  dataDir: string,
): SessionStoreModuleOptions {
  return {
    databaseUrl,
    signingKey,
    blobStore: { dir: env.BLOB_STORE_DIR ?? join(dataDir, 'blobs') },
    transcripts: { maxBytes: env.TRANSCRIPT_MAX_BYTES, graceMs: env.TRANSCRIPT_UPLOAD_GRACE },
  };
}

/** Consumes and answers once the application is up; stops, then closes the pool. */
@Injectable()
export class SessionStoreLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private subscriptions: Subscription[] = [];

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SessionStoreConsumer) private readonly consumer: SessionStoreConsumer,
    @Inject(SessionStoreRequestHandler) private readonly handler: SessionStoreRequestHandler,
    @Inject(SESSION_DATABASE) private readonly database: SessionDatabase,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriptions.push(
      await this.bus.subscribe(
        { consumer: SESSION_STORE_CONSUMER, patterns: SESSION_STORE_PATTERNS },
        this.consumer.handle,
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
    await this.database.close();
  }
}

/**
 * session-store inside a Nest application: consumes `session.reported` and runner-manager's
 * runner events (consumer `session-store`), answers the `session-store` request patterns, and
 * serves the agents' transcript upload (`PUT /api/v1/sessions/:sessionId/transcripts/:kind`).
 * Opens its pool on schema `session` (migrated at boot). Needs `MESSAGE_BUS`, `CLOCK` and
 * `ID_GENERATOR` from the service runtime, whose `messaging` migrations create the outbox and
 * inbox this module writes to.
 */
@Module({})
export class SessionStoreModule {
  static forRoot(options: SessionStoreModuleOptions): DynamicModule {
    return {
      module: SessionStoreModule,
      controllers: [TranscriptUploadController],
      providers: [
        {
          provide: SESSION_DATABASE,
          useFactory: () =>
            SessionDatabase.open(options.databaseUrl, {
              poolSize: options.poolSize ?? 10,
              applicationName: 'session-store',
            }),
        },
        {
          provide: BLOB_STORE,
          useFactory: (): BlobStore =>
            'instance' in options.blobStore
              ? options.blobStore.instance
              : new LocalFilesystemBlobStore(options.blobStore.dir),
        },
        {
          provide: SessionEventFactory,
          inject: [CLOCK, ID_GENERATOR],
          useFactory: (clock: Clock, ids: IdGenerator) =>
            new SessionEventFactory({ clock, ids, signingKey: options.signingKey }),
        },
        {
          provide: SessionStoreConsumer,
          inject: [SESSION_DATABASE, SessionEventFactory],
          useFactory: (database: SessionDatabase, events: SessionEventFactory) => {
            const logger = new Logger('SessionStoreConsumer');
            return new SessionStoreConsumer({
              store: database,
              events,
              weigh: options.priceWeights ?? listPriceWeights,
              logger: { warn: (m) => logger.warn(m) },
            });
          },
        },
        {
          provide: SessionStoreRequestHandler,
          inject: [SESSION_DATABASE, BLOB_STORE, CLOCK],
          useFactory: (db: SessionDatabase, blobs: BlobStore, clock: Clock) =>
            new SessionStoreRequestHandler(new SessionQueries({ db, blobs, clock })),
        },
        {
          provide: UploadTranscript,
          inject: [SESSION_DATABASE, BLOB_STORE, CLOCK, ID_GENERATOR],
          useFactory: (
            store: SessionDatabase,
            blobs: BlobStore,
            clock: Clock,
            ids: IdGenerator,
          ) => {
            const logger = new Logger('UploadTranscript');
            return new UploadTranscript({
              store,
              blobs,
              clock,
              ids,
              limits: options.transcripts,
              logger: { warn: (m) => logger.warn(m) },
            });
          },
        },
        TranscriptBodyParsers,
        SessionStoreLifecycle,
      ],
      exports: [SESSION_DATABASE, BLOB_STORE, SessionStoreRequestHandler],
    };
  }
}
