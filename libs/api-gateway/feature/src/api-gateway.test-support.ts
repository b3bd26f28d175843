import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';

import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  buildEnvelope,
  type EnvelopeClock,
  type EnvelopeInput,
  type EventCatalog,
  type EventContract,
  RUNNER_MANAGER_SERVICE,
} from '@stratavore/contracts';
import { CLOCK, ID_GENERATOR, RandomIdGenerator, SystemClock } from '@stratavore/core';
import {
  InProcessBus,
  MESSAGE_BUS,
  type RequestMeta,
  type Subscription,
} from '@stratavore/messaging';
import { HealthModule, registerHttpCorrelation } from '@stratavore/observability';

import { ApiGatewayModule } from './api-gateway.module';
import { type GatewayOptionsInput } from './api-gateway.options';
import { ApiKeyService } from './keys/api-key.service';

export const TEST_SIGNING_KEY = 'api-gateway-test-signing-key';

/**
 * Publishes one event of a test `catalog` on the gateway's bus, signed as the services sign
 * theirs, routed by its type: what the outbox relay would deliver.
 */
export function publishTestEvent<C extends EventContract, T extends C['type'], V extends number>(
  bus: InProcessBus,
  catalog: EventCatalog<C>,
  input: EnvelopeInput<C, T, V>,
  clock: EnvelopeClock = new SystemClock(),
) {
  const envelope = buildEnvelope<C, T, V>(input, {
    clock,
    ids: { uuid: randomUUID },
    signingKey: TEST_SIGNING_KEY,
    catalog,
  });
  return bus.publishBatch([
    { routingKey: input.type, messageId: envelope.id, body: Buffer.from(JSON.stringify(envelope)) },
  ]);
}

export interface ReceivedRequest {
  readonly pattern: string;
  readonly payload: unknown;
  readonly meta: RequestMeta;
}

type Answer = (payload: unknown, meta: RequestMeta) => unknown;

/**
 * A strict stand-in for a service's responder: answers only the requests a test expects, once
 * each, in order; anything else is recorded as unexpected (and answered with an error).
 */
export class FakeResponder {
  readonly received: ReceivedRequest[] = [];
  readonly unexpected: ReceivedRequest[] = [];
  private readonly expected: Array<{ pattern: string; answer: Answer }> = [];
  private subscription: Subscription | null = null;

  constructor(readonly service: string) {}

  expect(pattern: string, answer: Answer): this {
    this.expected.push({ pattern, answer });
    return this;
  }

  async attach(bus: InProcessBus): Promise<void> {
    this.subscription = await bus.respond(this.service, async (pattern, payload, meta) => {
      const request = { pattern, payload, meta };
      const next = this.expected[0];
      if (!next || next.pattern !== pattern) {
        this.unexpected.push(request);
        throw new Error(`unexpected request ${pattern}`);
      }
      this.expected.shift();
      this.received.push(request);
      return await next.answer(payload, meta);
    });
  }

  /** Stops answering: requests to the service find no responder (the service is down). */
  async detach(): Promise<void> {
    await this.subscription?.cancel();
    this.subscription = null;
  }

  /** Fails when a request was unexpected or an expected one never came. */
  assertSatisfied(): void {
    if (this.unexpected.length > 0) {
      throw new Error(
        `unexpected requests to ${this.service}: ${this.unexpected.map((r) => r.pattern).join(', ')}`,
      );
    }
    if (this.expected.length > 0) {
      throw new Error(
        `requests to ${this.service} never made: ${this.expected.map((e) => e.pattern).join(', ')}`,
      );
    }
  }

  reset(): void {
    this.received.length = 0;
    this.unexpected.length = 0;
    this.expected.length = 0;
  }
}

/** The strict stand-in for runner-manager every gateway test gets. */
export class FakeRunnerManager extends FakeResponder {
  constructor() {
    super(RUNNER_MANAGER_SERVICE);
  }
}

export interface GatewayUnderTest {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly bus: InProcessBus;
  readonly runnerManager: FakeRunnerManager;
  readonly keys: ApiKeyService;
  stop(): Promise<void>;
}

/**
 * The gateway on a real Fastify server (port 0) with the request-id hook the services use, real
 * PostgreSQL, and an in-process bus; the global providers stand in for the service runtime's.
 */
export async function startGateway(options: GatewayOptionsInput): Promise<GatewayUnderTest> {
  const bus = new InProcessBus({
    signingKey: TEST_SIGNING_KEY,
    // Envelope and signature are checked; the test events are not in the production catalog.
    catalog: null,
    requestTimeoutMs: 2_000,
  });
  await bus.connect();

  @Global()
  @Module({
    providers: [
      { provide: MESSAGE_BUS, useValue: bus },
      { provide: CLOCK, useValue: new SystemClock() },
      { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
    ],
    exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
  })
  class TestRuntimeModule {}

  @Module({
    imports: [TestRuntimeModule, HealthModule.forRoot(), ApiGatewayModule.forRoot(options)],
  })
  class GatewayTestModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayTestModule,
    new FastifyAdapter(),
    { logger: false },
  );
  registerHttpCorrelation(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const runnerManager = new FakeRunnerManager();
  await runnerManager.attach(bus);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    bus,
    runnerManager,
    keys: app.get(ApiKeyService),
    stop: async () => {
      await app.close();
      await bus.close();
    },
  };
}
