import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  buildEnvelope,
  type EventEnvelope,
  heartbeatRequestSchema,
  SESSION_STORE_SERVICE,
  type SessionDetail,
  type StratavoreEvent,
  type TranscriptWindowReply,
} from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, RandomIdGenerator, SystemClock } from '@stratavore/core';
import { createMessagingDataSource, InProcessBus, MESSAGE_BUS } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';
import { SessionStoreConsumer, SessionStoreModule } from '@stratavore/session-store';
import { type BlobStore } from '@stratavore/session-store-data-access';

const SIGNING_KEY = 'transcripts-integration-signing-key';

/** A runner as runner-manager would have launched it: its id, project and token. */
export interface TestRunner {
  readonly runnerId: string;
  readonly projectId: string;
  readonly token: string;
}

export function newRunner(projectId: string = randomUUID()): TestRunner {
  return { runnerId: randomUUID(), projectId, token: randomUUID() };
}

function envelope(type: string, source: string, subject: string, data: object): EventEnvelope {
  // Built against the production catalog, typed loosely on purpose.
  return buildEnvelope<StratavoreEvent>(
    {
      type: type as StratavoreEvent['type'],
      version: 1,
      source,
      subject,
      correlationId: 'transcripts-integration',
      data: data as never,
    },
    { clock: new SystemClock(), ids: new RandomIdGenerator(), signingKey: SIGNING_KEY },
  );
}

/**
 * The real session-store (its Nest module on Fastify, PostgreSQL, the given blob store) on a free
 * port, with an in-process bus. Events reach its consumer directly, as the bus would deliver
 * them: `launched` registers a runner's token; a heartbeat that {@link HeartbeatRelay} receives
 * becomes `session.reported`, as heartbeat-ingest would emit it.
 */
export class SessionStoreServer {
  private constructor(
    private readonly app: NestFastifyApplication,
    private readonly bus: InProcessBus,
    readonly url: string,
  ) {}

  static async start(options: {
    databaseUrl: string;
    blobs: BlobStore;
  }): Promise<SessionStoreServer> {
    const messaging = createMessagingDataSource({ url: options.databaseUrl, poolSize: 1 });
    await messaging.initialize();
    try {
      await runMigrations(messaging);
    } finally {
      await messaging.destroy();
    }
    const bus = new InProcessBus({ signingKey: SIGNING_KEY, requestTimeoutMs: 5_000 });
    await bus.connect();

    @Module({
      providers: [
        { provide: MESSAGE_BUS, useValue: bus },
        { provide: CLOCK, useValue: new SystemClock() },
        { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
      ],
      exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
    })
    class Runtime {}

    @Module({
      imports: [
        { module: Runtime, global: true },
        SessionStoreModule.forRoot({
          databaseUrl: options.databaseUrl,
          signingKey: SIGNING_KEY,
          blobStore: { instance: options.blobs },
          transcripts: { maxBytes: 64 * 1024 * 1024, graceMs: 3_600_000 },
          poolSize: 4,
        }),
      ],
    })
    class App {}

    const app = await NestFactory.create<NestFastifyApplication>(App, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    return new SessionStoreServer(app, bus, await app.getUrl());
  }

  private async deliver(event: EventEnvelope): Promise<void> {
    const consumer = this.app.get(SessionStoreConsumer);
    const result = await consumer.handle({ envelope: event, routingKey: event.type, attempt: 1 });
    if (result !== 'ack') throw new Error(`session-store answered ${result} to ${event.type}`);
  }

  /** `runner.launched` with the token's hash, as runner-manager emits it. */
  launched(runner: TestRunner): Promise<void> {
    return this.deliver(
      envelope('runner.launched', 'runner-manager', runner.runnerId, {
        runnerId: runner.runnerId,
        projectId: runner.projectId,
        agentCommand: 'claude',
        mode: 'headless',
        launcher: 'local',
        tokenHash: createHash('sha256').update(runner.token, 'utf8').digest('hex'),
      }),
    );
  }

  /** `session.reported` as heartbeat-ingest emits it for a heartbeat that carries a session. */
  reported(runner: TestRunner, seq: number, session: object): Promise<void> {
    return this.deliver(
      envelope('session.reported', 'heartbeat-ingest', runner.runnerId, {
        runnerId: runner.runnerId,
        projectId: runner.projectId,
        seq,
        observedAt: new Date().toISOString(),
        session,
      }),
    );
  }

  session(sessionId: string): Promise<SessionDetail> {
    return this.bus.request<SessionDetail>(SESSION_STORE_SERVICE, 'sessions.get', {
      session: sessionId,
    });
  }

  /** A stored transcript, read back whole through `sessions.transcript` windows. */
  async transcript(sessionId: string, kind: string): Promise<Buffer> {
    const [kindName, agentId] = kind === 'main' ? ['main'] : ['subagent', kind.slice(9)];
    const parts: Buffer[] = [];
    for (let offset = 0, reads = 0; reads < 1_000; reads += 1) {
      const window = await this.bus.request<TranscriptWindowReply>(
        SESSION_STORE_SERVICE,
        'sessions.transcript',
        {
          session: sessionId,
          kind: kindName,
          ...(agentId === undefined ? {} : { agentId }),
          offset,
          limitBytes: 256 * 1024,
        },
      );
      parts.push(Buffer.from(window.content, 'utf8'));
      offset = window.nextOffset;
      if (window.eof) break;
    }
    return Buffer.concat(parts);
  }

  async stop(): Promise<void> {
    // The agents' clients keep their connections alive; the test is over, so are they.
    this.app.getHttpServer().closeAllConnections();
    await this.app.close();
    await this.bus.close();
  }
}

/**
 * Plays heartbeat-ingest for the agent: answers every heartbeat with `continue`, and hands the
 * session snapshot it carries to session-store as `session.reported` before answering (the real
 * path goes through heartbeat-ingest, the outbox and the bus).
 */
export class HeartbeatRelay {
  readonly seqs: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(store: SessionStoreServer, runners: readonly TestRunner[]) {
    const relay: { current?: HeartbeatRelay } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void (async () => {
          const body = heartbeatRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString()));
          relay.current?.seqs.push(body.seq);
          const runner = runners.find((r) => r.runnerId === body.runnerId);
          if (runner && body.session) await store.reported(runner, body.seq, body.session);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ desiredState: 'continue', intervalMs: 200 }));
        })().catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ statusCode: 500, code: 'INTERNAL', message: String(error) }));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay.current = new HeartbeatRelay(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    return relay.current;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
