import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  buildEnvelope,
  type EventEnvelope,
  type HeartbeatSession,
  type ModelUsage,
  type StratavoreEvent,
} from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, ManualClock, RandomIdGenerator } from '@stratavore/core';
import { createMessagingDataSource, InProcessBus, MESSAGE_BUS } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';
import {
  type BlobStore,
  LocalFilesystemBlobStore,
  S3BlobStore,
  type SessionDatabase,
} from '@stratavore/session-store-data-access';

import { SessionStoreConsumer } from './session-store.consumer';
import { SESSION_DATABASE, SessionStoreModule } from './session-store.module';

export const TEST_SIGNING_KEY = 'session-store-test-signing-key';

export interface TestRunner {
  readonly runnerId: string;
  readonly projectId: string;
  readonly token: string;
}

export function newRunner(projectId: string = randomUUID()): TestRunner {
  return { runnerId: randomUUID(), projectId, token: randomUUID() };
}

export const usage = (input: number, output: number, cacheRead = 0): ModelUsage => ({
  input,
  output,
  cacheCreation5m: 0,
  cacheCreation1h: 0,
  cacheRead,
  webSearchRequests: 0,
});

export function sessionSnapshot(
  sessionId: string,
  overrides: Partial<HeartbeatSession> = {},
): HeartbeatSession {
  return {
    sessionId,
    models: { 'claude-sonnet-4-5': usage(100, 10) },
    turns: 1,
    costUsd: 1,
    reportedCostUsd: null,
    cwd: '/srv/app',
    transcriptPath: null,
    resumedFrom: null,
    waitingForInput: false,
    result: null,
    ...overrides,
  };
}

function envelope(
  type: string,
  source: string,
  subject: string,
  data: Record<string, unknown>,
  time: Date,
): EventEnvelope {
  // Test events are built against the production catalog, typed loosely on purpose.
  return buildEnvelope<StratavoreEvent>(
    {
      type: type as StratavoreEvent['type'],
      version: 1,
      source,
      subject,
      correlationId: 'test',
      data: data as never,
    },
    {
      clock: { now: () => time },
      ids: { uuid: () => randomUUID() },
      signingKey: TEST_SIGNING_KEY,
    },
  );
}

export function launched(runner: TestRunner, at = new Date()): EventEnvelope {
  return envelope(
    'runner.launched',
    'runner-manager',
    runner.runnerId,
    {
      runnerId: runner.runnerId,
      projectId: runner.projectId,
      agentCommand: 'claude',
      mode: 'headless',
      launcher: 'local',
      tokenHash: createHash('sha256').update(runner.token, 'utf8').digest('hex'),
    },
    at,
  );
}

export function runnerEvent(
  type: 'runner.running' | 'runner.completed' | 'runner.failed' | 'runner.stopped',
  runner: TestRunner,
  at: Date,
  extra: Record<string, unknown> = {},
): EventEnvelope {
  return envelope(
    type,
    'runner-manager',
    runner.runnerId,
    { runnerId: runner.runnerId, projectId: runner.projectId, ...extra },
    at,
  );
}

export function reported(
  runner: TestRunner,
  seq: number,
  session: HeartbeatSession,
  observedAt: Date,
): EventEnvelope {
  return envelope(
    'session.reported',
    'heartbeat-ingest',
    runner.runnerId,
    {
      runnerId: runner.runnerId,
      projectId: runner.projectId,
      seq,
      observedAt: observedAt.toISOString(),
      session,
    },
    observedAt,
  );
}

export interface SessionStoreUnderTest {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly bus: InProcessBus;
  readonly clock: ManualClock;
  readonly database: SessionDatabase;
  readonly consumer: SessionStoreConsumer;
  readonly blobs: BlobStore;
  /** Keys of the blobs under `prefix` (`transcripts/<session>/main/`), sorted. */
  listBlobs(prefix: string): Promise<string[]>;
  /** Delivers an event to the consumer as the bus would, once. */
  deliver(event: EventEnvelope): Promise<string>;
  stop(): Promise<void>;
}

/** Migrates the `messaging` schema (outbox, inbox) of a test database. */
export async function migrateMessaging(url: string): Promise<void> {
  const dataSource = createMessagingDataSource({ url, poolSize: 1 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** A blob store for a test and how to list what it holds. */
export interface TestBlobStore {
  readonly store: BlobStore;
  list(prefix: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** The default: a {@link LocalFilesystemBlobStore} in a temporary directory. */
export async function temporaryFilesystemBlobs(): Promise<TestBlobStore> {
  const dir = await mkdtemp(join(tmpdir(), 'session-store-blobs-'));
  return {
    store: new LocalFilesystemBlobStore(dir),
    list: async (prefix) => {
      const entries = await readdir(join(dir, prefix), {
        recursive: true,
        withFileTypes: true,
      }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map(
          (entry) => `${prefix}${relative(join(dir, prefix), join(entry.parentPath, entry.name))}`,
        )
        .sort();
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** What {@link s3Blobs} needs of a local S3 server (`startLocalS3Server` of the test harness). */
export interface S3ServerForTests {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  keys(prefix: string): string[];
}

/** An {@link S3BlobStore} on a local S3-compatible server, under a prefix of its own. */
export function s3Blobs(server: S3ServerForTests): TestBlobStore {
  const prefix = `t-${randomUUID()}/`;
  const store = new S3BlobStore({
    bucket: server.bucket,
    prefix,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: server.credentials,
    partSize: 5 * 1024 * 1024,
  });
  const list = (under: string) =>
    server.keys(`${prefix}${under}`).map((key) => key.slice(prefix.length));
  return {
    store,
    list: (under) => Promise.resolve(list(under)),
    cleanup: async () => {
      for (const key of list('')) await store.delete(key);
      await store.close();
    },
  };
}

/**
 * session-store on a real Fastify server (port 0), real PostgreSQL, a blob store (a temporary
 * directory unless the test brings one, e.g. S3 on a local server) and an in-process bus
 * validating against the production catalog.
 */
export async function startSessionStore(options: {
  databaseUrl: string;
  clock?: ManualClock;
  maxBytes?: number;
  graceMs?: number;
  blobs?: TestBlobStore;
}): Promise<SessionStoreUnderTest> {
  await migrateMessaging(options.databaseUrl);
  const clock = options.clock ?? new ManualClock('2026-03-01T10:00:00.000Z');
  const blobs = options.blobs ?? (await temporaryFilesystemBlobs());
  const bus = new InProcessBus({ signingKey: TEST_SIGNING_KEY, requestTimeoutMs: 5_000 });
  await bus.connect();

  @Module({
    providers: [
      { provide: MESSAGE_BUS, useValue: bus },
      { provide: CLOCK, useValue: clock },
      { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
    ],
    exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
  })
  class RuntimeStandIn {}

  @Module({
    imports: [
      { module: RuntimeStandIn, global: true },
      SessionStoreModule.forRoot({
        databaseUrl: options.databaseUrl,
        signingKey: TEST_SIGNING_KEY,
        blobStore: { instance: blobs.store },
        transcripts: {
          maxBytes: options.maxBytes ?? 1024 * 1024,
          graceMs: options.graceMs ?? 3_600_000,
        },
        poolSize: 4,
      }),
    ],
  })
  class TestApp {}

  const app = await NestFactory.create<NestFastifyApplication>(TestApp, new FastifyAdapter(), {
    logger: false,
  });
  await app.listen(0, '127.0.0.1');
  const consumer = app.get(SessionStoreConsumer);
  return {
    app,
    url: await app.getUrl(),
    bus,
    clock,
    database: app.get<SessionDatabase>(SESSION_DATABASE),
    consumer,
    blobs: blobs.store,
    listBlobs: (prefix) => blobs.list(prefix),
    deliver: (event) => consumer.handle({ envelope: event, routingKey: event.type, attempt: 1 }),
    stop: async () => {
      await app.close();
      await bus.close();
      await blobs.cleanup();
    },
  };
}
