/**
 * The outbox bench's child processes (see outbox-relay.bench.ts), so that neither the event
 * writers nor the consumer share an event loop (nor a garbage collector) with the relay they
 * measure. Started by `startOutboxBenchWorker`; talks over IPC; exits when its parent goes away.
 *
 * - `writer`: commits signed events to `messaging.outbox` the way a service does
 *   (`OutboxWriter.append` inside a transaction): a backlog, a sustained burst from concurrent
 *   writers, or an open-loop paced stream stamped with its commit time.
 * - `consumer`: a real `RabbitMqBus` subscription (envelope and signature checked on every
 *   delivery, acked), counting arrivals per routing key and measuring commit-to-consumer latency.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { type EventEnvelope, signEnvelope } from '@stratavore/contracts';
import {
  type ConsumerQueueType,
  createMessagingDataSource,
  OutboxWriter,
  RabbitMqBus,
  type Subscription,
} from '@stratavore/messaging';
import { withTransaction } from '@stratavore/persistence';
import { type DataSource } from 'typeorm';

import { percentile } from './bench-report';

export interface WriterSetup {
  readonly role: 'writer';
  readonly databaseUrl: string;
  readonly signingKey: string;
}

export interface ConsumerSetup {
  readonly role: 'consumer';
  readonly amqpUrl: string;
  readonly exchange: string;
  readonly deadLetterExchange: string;
  readonly unroutedExchange: string;
  readonly queueType: ConsumerQueueType;
  readonly consumer: string;
  readonly signingKey: string;
}

/** What a writer is asked to commit; every event's subject is `<prefix><n % subjects>`. */
export type WriterCommand =
  /** Signs `events` envelopes ahead, for the next `burst` of the same type (no database). */
  | {
      readonly kind: 'prepare';
      readonly type: string;
      readonly events: number;
      readonly subjects: number;
    }
  /** `events` in transactions of `perTx`, one after another. */
  | {
      readonly kind: 'backlog';
      readonly type: string;
      readonly events: number;
      readonly perTx: number;
      readonly subjects: number;
    }
  /** `events` in transactions of `perTx` by `writers` concurrent writers, as fast as they go. */
  | {
      readonly kind: 'burst';
      readonly type: string;
      readonly events: number;
      readonly perTx: number;
      readonly writers: number;
      readonly subjects: number;
    }
  /**
   * Open loop: every 5 ms, commit the events due at `rate` per second (at most 4 transactions
   * in flight), each stamped `committedAt` just before its insert; the first `warmupSeconds`
   * go out as `<type>.warmup`.
   */
  | {
      readonly kind: 'paced';
      readonly type: string;
      readonly rate: number;
      readonly seconds: number;
      readonly warmupSeconds: number;
      readonly subjects: number;
    };

export interface WriterReport {
  readonly events: number;
  readonly transactions: number;
  readonly seconds: number;
  /** CPU this process used for the command, in ms. */
  readonly cpuMs: number;
}

export interface LatencyReport {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

type Request =
  | { readonly id: number; readonly op: 'write'; readonly command: WriterCommand }
  | {
      readonly id: number;
      readonly op: 'arrivals';
      readonly routingKey: string;
      readonly count: number;
      readonly timeoutMs: number;
    }
  | { readonly id: number; readonly op: 'latency'; readonly routingKey: string };

/** A request before it gets its id (Omit over each member of the union). */
type Outgoing = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

type Reply = { readonly id: number; readonly result?: unknown; readonly error?: string };

/** A running worker: `request` sends one command and resolves with its answer. */
export interface OutboxBenchWorker {
  readonly pid: number;
  write(command: WriterCommand): Promise<WriterReport>;
  /** Resolves with the arrival time (ms since epoch) once `count` messages of `routingKey` arrived. */
  arrivals(routingKey: string, count: number, timeoutMs: number): Promise<number>;
  /** Commit-to-consumer latency (ms) of every message of `routingKey` so far. */
  latency(routingKey: string): Promise<LatencyReport>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every worker still running (a bench's cleanup on failure or abort). */
export function killOutboxBenchWorkers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Forks a worker and resolves once it is set up (connected, subscribed). */
export function startOutboxBenchWorker(
  setup: WriterSetup | ConsumerSetup,
): Promise<OutboxBenchWorker> {
  const child = fork(__filename, [], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  const failAll = (error: Error) => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter.reject(new Error(`${setup.role}: ${reply.error}`));
    else waiter.resolve(reply.result);
  });
  child.on('error', (error) => failAll(error));
  child.on('exit', (code, signal) => {
    running.delete(child);
    failAll(new Error(`the ${setup.role} worker exited (${code ?? signal})`));
  });
  const call = <T>(
    request: Outgoing | { op: 'setup'; setup: WriterSetup | ConsumerSetup },
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  const worker: OutboxBenchWorker = {
    pid: child.pid!,
    write: (command) => call<WriterReport>({ op: 'write', command }),
    arrivals: (routingKey, count, timeoutMs) =>
      call<number>({ op: 'arrivals', routingKey, count, timeoutMs }),
    latency: (routingKey) => call<LatencyReport>({ op: 'latency', routingKey }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ id: 0, op: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return call<void>({ op: 'setup', setup }).then(() => worker);
}

// ---------------------------------------------------------------------------------------------
// The child side.

function now(): number {
  return performance.timeOrigin + performance.now();
}

function envelope(
  type: string,
  subject: string,
  data: Record<string, unknown>,
  key: string,
): EventEnvelope {
  return signEnvelope(
    {
      specversion: '1.0',
      id: randomUUID(),
      source: 'bench',
      type,
      dataversion: 1,
      time: new Date().toISOString(),
      subject,
      correlationId: randomUUID(),
      data: { ...data, note: 'x'.repeat(160) }, // about the size of a real event
    },
    key,
  );
}

class Writer {
  private readonly outbox = new OutboxWriter();
  private prepared: { type: string; envelopes: EventEnvelope[] } | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly key: string,
  ) {}

  static async open(setup: WriterSetup): Promise<Writer> {
    const dataSource = createMessagingDataSource({
      url: setup.databaseUrl,
      poolSize: 8,
      applicationName: 'outbox-bench-writer',
    });
    await dataSource.initialize();
    return new Writer(dataSource, setup.signingKey);
  }

  async run(command: WriterCommand): Promise<WriterReport> {
    const cpu = process.cpuUsage();
    const started = performance.now();
    let transactions = 0;
    let events = 0;
    const commit = async (
      type: string,
      first: number,
      count: number,
      subjects: number,
      stamp: boolean,
    ) => {
      const ready = this.prepared?.type === type ? this.prepared.envelopes : null;
      await withTransaction(this.dataSource, (manager) => {
        if (ready && ready.length >= first + count) {
          return this.outbox.append(manager, ready.slice(first, first + count));
        }
        const committedAt = now();
        const batch = Array.from({ length: count }, (_, k) =>
          envelope(
            type,
            `s${(first + k) % subjects}`,
            stamp ? { committedAt } : { n: first + k },
            this.key,
          ),
        );
        return this.outbox.append(manager, batch);
      });
      transactions++;
      events += count;
    };

    switch (command.kind) {
      case 'prepare':
        this.prepared = {
          type: command.type,
          envelopes: Array.from({ length: command.events }, (_, n) =>
            envelope(command.type, `s${n % command.subjects}`, { n }, this.key),
          ),
        };
        break;
      case 'backlog':
        for (let i = 0; i < command.events; i += command.perTx) {
          await commit(
            command.type,
            i,
            Math.min(command.perTx, command.events - i),
            command.subjects,
            false,
          );
        }
        break;
      case 'burst': {
        let nextTx = 0;
        const txs = Math.ceil(command.events / command.perTx);
        await Promise.all(
          Array.from({ length: command.writers }, async () => {
            for (let tx = nextTx++; tx < txs; tx = nextTx++) {
              const first = tx * command.perTx;
              await commit(
                command.type,
                first,
                Math.min(command.perTx, command.events - first),
                command.subjects,
                false,
              );
            }
          }),
        );
        break;
      }
      case 'paced':
        await this.paced(command, commit);
        break;
    }
    const used = process.cpuUsage(cpu);
    return {
      events,
      transactions,
      seconds: (performance.now() - started) / 1000,
      cpuMs: (used.user + used.system) / 1000,
    };
  }

  private paced(
    command: Extract<WriterCommand, { kind: 'paced' }>,
    commit: (
      type: string,
      first: number,
      count: number,
      subjects: number,
      stamp: boolean,
    ) => Promise<void>,
  ): Promise<void> {
    const warmup = Math.round(command.rate * command.warmupSeconds);
    const total = warmup + Math.round(command.rate * command.seconds);
    let offered = 0;
    let inFlight = 0;
    const start = performance.now();
    return new Promise<void>((resolve, reject) => {
      const tick = setInterval(() => {
        if (offered >= total && inFlight === 0) {
          clearInterval(tick);
          resolve();
          return;
        }
        const due = Math.min(
          total,
          Math.floor(((performance.now() - start) / 1000) * command.rate),
        );
        if (due <= offered || inFlight >= 4) return;
        // A transaction never mixes warm-up and measured events.
        const end = offered < warmup ? Math.min(due, warmup) : due;
        const type = offered < warmup ? `${command.type}.warmup` : command.type;
        const first = offered;
        offered = end;
        inFlight++;
        commit(type, first, end - first, command.subjects, true)
          .then(() => inFlight--)
          .catch((error: unknown) => {
            clearInterval(tick);
            reject(error instanceof Error ? error : new Error(String(error)));
          });
      }, 5);
    });
  }

  close(): Promise<void> {
    return this.dataSource.destroy();
  }
}

class Consumer {
  private readonly counts = new Map<string, number>();
  private readonly latencies = new Map<string, number[]>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly bus: RabbitMqBus,
    private subscription: Subscription | null,
  ) {}

  static async open(setup: ConsumerSetup): Promise<Consumer> {
    const bus = new RabbitMqBus({
      url: setup.amqpUrl,
      exchange: setup.exchange,
      deadLetterExchange: setup.deadLetterExchange,
      unroutedExchange: setup.unroutedExchange,
      queueType: setup.queueType,
      signingKey: setup.signingKey,
      serviceName: 'outbox-bench-consumer',
      catalog: null,
      logger: {
        log: () => undefined,
        warn: (message) => console.warn(`consumer bus: ${message}`),
        error: (message) => console.error(`consumer bus: ${message}`),
      },
    });
    await bus.connect();
    const consumer = new Consumer(bus, null);
    consumer.subscription = await bus.subscribe(
      { consumer: setup.consumer, patterns: ['bench.#'], prefetch: 1_000 },
      ({ envelope: received, routingKey }) => {
        consumer.counts.set(routingKey, (consumer.counts.get(routingKey) ?? 0) + 1);
        const { committedAt } = received.data as { committedAt?: number };
        if (committedAt !== undefined) {
          const list = consumer.latencies.get(routingKey) ?? [];
          list.push(now() - committedAt);
          consumer.latencies.set(routingKey, list);
        }
        for (const wake of [...consumer.waiters]) wake();
        return Promise.resolve('ack');
      },
    );
    return consumer;
  }

  arrivals(routingKey: string, count: number, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const check = () => {
        if ((this.counts.get(routingKey) ?? 0) < count) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(now());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${count} ${routingKey}, got ${this.counts.get(routingKey) ?? 0}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  latency(routingKey: string): LatencyReport {
    const sorted = [...(this.latencies.get(routingKey) ?? [])].sort((a, b) => a - b);
    return {
      count: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
    };
  }

  async close(): Promise<void> {
    await this.subscription?.cancel();
    await this.bus.close();
  }
}

function serveChild(): void {
  let writer: Writer | null = null;
  let consumer: Consumer | null = null;
  const reply = (message: Reply) => process.send?.(message);
  const answer = (id: number, work: () => Promise<unknown>) => {
    work().then(
      (result) => reply({ id, result }),
      (error: unknown) =>
        reply({ id, error: error instanceof Error ? error.message : String(error) }),
    );
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { id: number; op: string } & Record<string, unknown>) => {
    switch (message.op) {
      case 'setup':
        answer(message.id, async () => {
          const setup = message.setup as WriterSetup | ConsumerSetup;
          if (setup.role === 'writer') writer = await Writer.open(setup);
          else consumer = await Consumer.open(setup);
        });
        return;
      case 'write':
        answer(message.id, () => writer!.run(message.command as WriterCommand));
        return;
      case 'arrivals':
        answer(message.id, () =>
          consumer!.arrivals(
            message.routingKey as string,
            message.count as number,
            message.timeoutMs as number,
          ),
        );
        return;
      case 'latency':
        answer(message.id, () => Promise.resolve(consumer!.latency(message.routingKey as string)));
        return;
      case 'stop':
        void Promise.allSettled([writer?.close(), consumer?.close()]).then(() => process.exit(0));
        return;
    }
  });
}

if (require.main === module && process.send) serveChild();
