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
  S3BlobStore,
  SessionDatabase,
} from '@stratavore/session-store-data-access';

import { listPriceWeights } from './price-weights';
import { SessionEventFactory } from './session-events.factory';
import { SessionQueries } from './session-queries';
import { type PriceWeights } from './session-rules';
import {
  blobStoreFromConfig,
  type BlobStoreSelection,
  type SessionStoreConfig,
} from './session-store.config';
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
  /**
   * Where transcripts go: a directory (local filesystem), an S3 bucket, or a store built by the
   * caller (tests), which the caller also closes.
   */
  readonly blobStore: BlobStoreSelection | { readonly instance: BlobStore };
  readonly transcripts: UploadLimits;
  /** Connections in the `session` pool (default 10). */
  readonly poolSize?: number;
  /** Weights that split a run's cost over its models (default: list prices). */
  readonly priceWeights?: PriceWeights;
}

/** Nest injection tokens of the opened database and the blob store. */
export const SESSION_DATABASE = Symbol('SESSION_DATABASE');
export const BLOB_STORE = Symbol('BLOB_STORE');

/** Builds the blob store the options name; `owned` when this module must close it. */
function openBlobStore(selection: SessionStoreModuleOptions['blobStore']): {
  store: BlobStore;
  owned: boolean;
} {
  if ('instance' in selection) return { store: selection.instance, owned: false };
  if ('s3' in selection) return { store: new S3BlobStore(selection.s3), owned: true };
  return { store: new LocalFilesystemBlobStore(selection.dir), owned: true };
}

/** The opened blob store and whether the module closes it. */
const OPENED_BLOB_STORE = Symbol('OPENED_BLOB_STORE');
type OpenedBlobStore = ReturnType<typeof openBlobStore>;

/**
 * The module's options from the validated environment (the app and the daemon share this).
 *
 * @throws ConfigError when the blob store's variables do not fit together (`BLOB_STORE=s3`
 * without `S3_BUCKET`, half of a key pair).
 */
export function sessionStoreOptionsFromEnv(
  databaseUrl: string,
  signingKey: string,
  env: SessionStoreConfig,
  dataDir: string,
): SessionStoreModuleOptions {
  return {
    databaseUrl,
    signingKey,
    blobStore: blobStoreFromConfig(env, join(dataDir, 'blobs')),
    transcripts: { maxBytes: env.TRANSCRIPT_MAX_BYTES, graceMs: env.TRANSCRIPT_UPLOAD_GRACE },
  };
}

/** Consumes and answers once the application is up; stops, then closes the pool. */
@Injectable()
export class SessionStoreLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private subscriptions: Subscription[] = [];
  private readonly logger = new Logger('SessionStore');

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(SessionStoreConsumer) private readonly consumer: SessionStoreConsumer,
    @Inject(SessionStoreRequestHandler) private readonly handler: SessionStoreRequestHandler,
    @Inject(SESSION_DATABASE) private readonly database: SessionDatabase,
    @Inject(OPENED_BLOB_STORE) private readonly blobs: OpenedBlobStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.logger.log(`transcripts are kept in ${this.blobs.store.description}`);
    // In the background, and a warning rather than a failed start: an unreachable S3 would
    // otherwise hold the start for its retries, and the bucket may come up later.
    void this.blobs.store.verify?.().catch((error: unknown) => {
      this.logger.warn(error instanceof Error ? error.message : String(error));
    });
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
    if (this.blobs.owned) await this.blobs.store.close?.();
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
        { provide: OPENED_BLOB_STORE, useFactory: () => openBlobStore(options.blobStore) },
        {
          provide: BLOB_STORE,
          inject: [OPENED_BLOB_STORE],
          useFactory: (opened: OpenedBlobStore): BlobStore => opened.store,
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
