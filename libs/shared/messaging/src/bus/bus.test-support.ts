// Helpers for the bus tests only (not exported from the library). Replace with
// @stratavore/testing's requireAmqpUrl / uniqueName / waitFor once that lands.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';

import {
  buildEnvelope,
  defineEvent,
  EventCatalog,
  type EventEnvelope,
  signEnvelope,
} from '@stratavore/contracts';
import { z } from 'zod';

import { type OutgoingEvent } from './bus.ports';

export const TEST_SIGNING_KEY = 'bus-test-signing-key';

export const testPinged = defineEvent({
  type: 'test.pinged',
  version: 1,
  data: z.object({ n: z.number().int() }),
});
export const testPonged = defineEvent({
  type: 'test.ponged',
  version: 1,
  data: z.object({ n: z.number().int() }),
});
export const testCatalog = new EventCatalog([testPinged, testPonged]);

let idCounter = 0;
const runTag = randomBytes(4).toString('hex');

export function uniqueName(prefix: string): string {
  return `${prefix}.${runTag}.${(++idCounter).toString(36)}.${randomBytes(3).toString('hex')}`;
}

export function requireAmqpUrl(): string {
  const url = process.env['AMQP_URL'];
  if (!url) throw new Error('AMQP_URL is not set; the amqp test tier needs a RabbitMQ broker');
  return url;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails at the deadline. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const fixedDeps = () => ({
  clock: { now: () => new Date() },
  ids: { uuid: () => randomUUID() },
  signingKey: TEST_SIGNING_KEY,
  catalog: testCatalog,
});

export function pingEnvelope(n: number, type: 'test.pinged' | 'test.ponged' = 'test.pinged') {
  return buildEnvelope(
    {
      type,
      version: 1,
      source: 'bus-test',
      subject: `s-${n}`,
      correlationId: `c-${n}`,
      data: { n },
    },
    fixedDeps(),
  );
}

export function toOutgoing(envelope: EventEnvelope, routingKey = envelope.type): OutgoingEvent {
  return { routingKey, messageId: envelope.id, body: Buffer.from(JSON.stringify(envelope)) };
}

export function ping(n: number, routingKey?: string): OutgoingEvent {
  return toOutgoing(pingEnvelope(n), routingKey);
}

/** A correctly shaped envelope signed with the wrong key. */
export function forgedPing(n: number): OutgoingEvent {
  const { signature: _signature, ...unsigned } = pingEnvelope(n);
  return toOutgoing(signEnvelope(unsigned, 'not-the-key'));
}

/**
 * A TCP proxy in front of the broker so tests can cut or stall the connection without touching
 * the broker's other clients.
 */
export class TcpProxy {
  private server?: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const parsed = new URL(url);
    return new TcpProxy(parsed.hostname, Number(parsed.port || 5672));
  }

  async start(): Promise<number> {
    const server = createServer((client) => {
      const upstream = new Socket();
      const pair = { client, upstream };
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(this.targetPort, this.targetHost, () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    return address.port;
  }

  /** Destroys every proxied connection (as a network failure would); new ones still work. */
  cut(): void {
    for (const pair of [...this.pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding broker -> client bytes: confirms and replies stop arriving. */
  stallBrokerToClient(): void {
    for (const { upstream, client } of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** `amqp://guest:guest@127.0.0.1:5672` -> same credentials, another port. */
export function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}
