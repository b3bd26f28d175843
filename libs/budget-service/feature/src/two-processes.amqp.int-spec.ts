// 1,000 concurrent reservations through two budget-service processes (the built app) on
// RabbitMQ: both consume `rpc.budget-service`, both lock the same budgets in one PostgreSQL.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { budgetDataSource } from '@stratavore/budget-service-data-access';
import {
  BUDGET_SERVICE,
  type ReserveBudgetReply,
  type SetBudgetReply,
} from '@stratavore/contracts';
import { RabbitMqBus } from '@stratavore/messaging';
import {
  createTestDatabase,
  requireAmqpUrl,
  type TestDatabase,
  waitFor,
} from '@stratavore/testing';
import { type Channel, type ChannelModel, connect } from 'amqplib';

import { TEST_SIGNING_KEY } from './budget-service.int-test-support';
import { ReservedSampler } from './reserved-sampler.test-support';

const amqpUrl = requireAmqpUrl();
const ROOT = join(__dirname, '../../../..');
const MAIN = join(ROOT, 'dist/apps/budget-service/apps/budget-service/src/main.js');
/** The production names the app declares (it has no setting to rename them). */
const QUEUES = [
  'rpc.budget-service',
  'budget-service',
  'budget-service.retry',
  'budget-service.dlq',
];

interface Child {
  readonly process: ChildProcess;
  url: string | null;
  output: string;
}

function startChild(databaseUrl: string): Child {
  const child: Child = {
    process: spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: databaseUrl,
        AMQP_URL: amqpUrl,
        EVENT_SIGNING_KEY: TEST_SIGNING_KEY,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    url: null,
    output: '',
  };
  const collect = (chunk: Buffer) => {
    child.output += chunk.toString();
    const match = /listening on (http:\/\/[^\s"]+)/.exec(child.output);
    if (match?.[1]) child.url = match[1];
  };
  child.process.stdout?.on('data', collect);
  child.process.stderr?.on('data', collect);
  return child;
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await exited;
}

async function reservationsServed(child: Child): Promise<number> {
  const text = await (await fetch(`${child.url}/metrics`)).text();
  return [...text.matchAll(/^stratavore_budget_reservations_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe('two budget-service processes on RabbitMQ', () => {
  let db: TestDatabase;
  let connection: ChannelModel;
  let channel: Channel;
  let client: RabbitMqBus;
  let sql: ReturnType<typeof budgetDataSource>;
  const children: Child[] = [];
  const createdQueues: string[] = [];

  async function queueExists(queue: string): Promise<{ consumers: number } | null> {
    // A 404 closes the channel (and emits 'error'): probe on a channel of its own.
    const probe = await connection.createChannel();
    probe.on('error', () => undefined);
    try {
      const { consumerCount } = await probe.checkQueue(queue);
      await probe.close();
      return { consumers: consumerCount };
    } catch {
      return null;
    }
  }

  beforeAll(async () => {
    if (!existsSync(MAIN) || process.env.BUDGET_TEST_SKIP_BUILD !== '1') {
      execFileSync('npx', ['nx', 'build', 'budget-service'], {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 600_000,
        env: { ...process.env, NX_DAEMON: 'false' },
      });
    }
    connection = await connect(amqpUrl);
    channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const queue of QUEUES) {
      const existing = await queueExists(queue);
      if (existing && existing.consumers > 0) {
        throw new Error(
          `${queue} already has consumers on this broker (a running budget-service?): stop it first`,
        );
      }
      if (!existing) createdQueues.push(queue);
    }
    db = await createTestDatabase('budget_two_processes');
    children.push(startChild(db.url), startChild(db.url));
    for (const child of children) {
      await waitFor(
        async () => {
          if (child.process.exitCode !== null) throw new Error(`exited: ${child.output}`);
          return child.url !== null && (await fetch(`${child.url}/health/ready`)).ok;
        },
        { timeoutMs: 60_000, description: 'budget-service to be ready' },
      );
    }
    client = new RabbitMqBus({
      url: amqpUrl,
      signingKey: TEST_SIGNING_KEY,
      serviceName: 'budget-test-client',
      requestTimeoutMs: 120_000,
    });
    await client.connect();
    sql = budgetDataSource(db.url, { poolSize: 2 });
    await sql.initialize();
  }, 900_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(children.map(stopChild));
    await sql?.destroy();
    for (const queue of createdQueues) await channel?.deleteQueue(queue).catch(() => undefined);
    await connection?.close();
    await db?.drop();
  });

  it('keeps every budget within its limit at every moment, and both processes serve', async () => {
    const capped = randomUUID();
    const request = <T>(pattern: string, payload: unknown) =>
      client.request<T>(BUDGET_SERVICE, pattern, payload);
    const global = await request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'global' },
      limitTokens: 100_000,
      period: 'daily',
    });
    const project = await request<SetBudgetReply>('budgets.set', {
      scope: { kind: 'project', projectId: capped },
      limitTokens: 60_000,
      period: 'daily',
    });
    const sampler = new ReservedSampler(
      sql,
      new Map([
        [global.budget.id, 100_000],
        [project.budget.id, 60_000],
      ]),
    );
    const sampling = sampler.run();
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        request<ReserveBudgetReply>('budgets.reserve', {
          reservationId: randomUUID(),
          runnerId: randomUUID(),
          projectId: i % 2 === 0 ? capped : randomUUID(),
          estimate: { tokens: 150 },
        }),
      ),
    );
    const samples = await sampler.stop(sampling);

    const granted = replies.filter((r) => r.status === 'granted').length;
    expect(granted).toBe(Math.floor(100_000 / 150));
    expect(samples.violations).toEqual([]);
    expect(samples.count).toBeGreaterThan(1);
    const final = await sampler.sample();
    expect(final.get(global.budget.id)).toBe(granted * 150);
    expect(final.get(project.budget.id)).toBeLessThanOrEqual(60_000);
    // RabbitMQ spread the requests over both processes.
    const served = await Promise.all(children.map(reservationsServed));
    expect(served.every((n) => n > 0)).toBe(true);
    expect(served.reduce((a, b) => a + b, 0)).toBe(1000);
  });
});
