// Every Stratavore service as its own process, as they are deployed: the built apps from dist,
// on a database of their own (created on the server of DATABASE_URL, dropped after) and a
// RabbitMQ vhost of their own (created on the broker of AMQP_URL, deleted after). Each process
// listens on a free port on loopback, logs to a file in the sandbox, and is stopped with SIGTERM;
// a restart keeps its port, because agents keep the heartbeat URL they were launched with and
// the CLI keeps the gateway's URL.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { generateApiKey } from '@stratavore/api-client';
import { createTestDatabase, type TestDatabase } from '@stratavore/testing';
import { Client } from 'pg';

import {
  type BuildSpec,
  describeCli,
  DIST,
  eventually,
  GiveUp,
  type Sandbox,
  WORKSPACE_ROOT,
} from './e2e-harness';
import { createVhost, type RabbitVhost } from './rabbitmq-vhost';

export const SERVICES = [
  'api-gateway',
  'runner-manager',
  'heartbeat-ingest',
  'outbox-relay',
  'budget-service',
  'notifier',
  'session-store',
] as const;

export type ServiceName = (typeof SERVICES)[number];

function serviceMain(service: ServiceName): string {
  return join(WORKSPACE_ROOT, `dist/apps/${service}/apps/${service}/src/main.js`);
}

/** The build of every service, the CLI and the agent (cached by Nx when unchanged). */
export const FLEET_BUILD: BuildSpec = {
  command: `npx nx run-many -t build -p ${SERVICES.join(' ')} cli agent`,
  outputs: [...SERVICES.map(serviceMain), DIST.cli, DIST.agent],
};

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const FLEET_HOW_TO = [
  'The multi-process end-to-end suites run every service against a real PostgreSQL and RabbitMQ:',
  '  AMQP_URL=amqp://guest:guest@127.0.0.1:5672 \\',
  `  DATABASE_URL=${DEFAULT_DATABASE_URL} npm run test:e2e`,
  'Each suite creates its own database on that server and its own vhost on that broker, and',
  `removes both after. DATABASE_URL defaults to ${DEFAULT_DATABASE_URL}.`,
].join('\n');

/** The servers the fleet runs on; fails at once, saying how to provide them, without AMQP_URL. */
export function requireFleetServers(
  env: Readonly<Record<string, string | undefined>> = process.env,
): {
  amqpUrl: string;
  databaseUrl: string;
} {
  if (!env.AMQP_URL) throw new Error(`AMQP_URL is not set.\n${FLEET_HOW_TO}`);
  return { amqpUrl: env.AMQP_URL, databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL };
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One start of one service instance: a child process writing to its log file. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;
  /** Where this start's output begins in the (shared, appended) log file. */
  private readonly logOffset: number;
  url = '';
  port = 0;

  constructor(
    readonly instance: string,
    readonly service: ServiceName,
    readonly logPath: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.logOffset = existsSync(logPath) ? statSync(logPath).size : 0;
    const log = openSync(logPath, 'a');
    try {
      this.child = spawn(process.execPath, [serviceMain(service)], {
        env,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, sig) => {
        this.exitStatus = { code, signal: sig };
        resolve(this.exitStatus);
      }),
    );
  }

  get running(): boolean {
    return this.exitStatus === null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** This start's output. */
  output(): string {
    try {
      return readFileSync(this.logPath).subarray(this.logOffset).toString('utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 40): string {
    return this.output().trim().split('\n').slice(-lines).join('\n');
  }

  /** Waits for `<service> listening on http://...`, then for `/health/ready` to answer 200. */
  async ready(timeoutMs = 90_000): Promise<void> {
    const url = await eventually(
      `${this.instance} announces \`listening on http://...\``,
      () => {
        if (!this.running) {
          throw new GiveUp(`it exited (${JSON.stringify(this.exitStatus)}):\n${this.tail()}`);
        }
        return /listening on (http:\/\/[^\s"]+)/.exec(this.output())?.[1];
      },
      { timeoutMs },
    );
    this.url = url;
    this.port = Number(new URL(url).port);
    await eventually(
      `${this.instance} answers 200 on ${url}/health/ready`,
      async () => {
        if (!this.running) throw new GiveUp(`it exited:\n${this.tail()}`);
        const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
        if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
        return true;
      },
      { timeoutMs: 30_000 },
    );
  }

  /** SIGTERM and the exit status; SIGKILL and a failure past the deadline. */
  async stop(timeoutMs = 45_000): Promise<ExitStatus> {
    if (!this.running) return this.exitStatus ?? (await this.exited);
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(
          new Error(
            `${this.instance} did not exit within ${timeoutMs} ms of SIGTERM:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

export interface FleetOptions {
  /** runner-manager processes on the same database and broker (default 1). */
  readonly runnerManagers?: number;
  /** Variables for every process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables for the processes of one service (after `env`). */
  readonly serviceEnv?: Readonly<Partial<Record<ServiceName, Readonly<Record<string, string>>>>>;
}

interface Instance {
  readonly name: string;
  readonly service: ServiceName;
  /** Extra variables of this instance (runner-manager: the heartbeat URL, the log dir). */
  readonly env: Record<string, string>;
  current: ServiceProcess | undefined;
  /** Every start, oldest first (for the logs of a failed test). */
  readonly starts: ServiceProcess[];
}

/**
 * The fleet of one suite. `start` creates the database and vhost, starts every service (the
 * heartbeat-ingest first: runner-manager hands its URL to agents; the gateway with its admin key
 * as `API_BOOTSTRAP_KEY`), waits until each is ready and logs the sandbox's CLI in to the gateway
 * with that key. `cleanup` stops what runs, drops the database and deletes the vhost.
 */
export class ServiceFleet {
  private readonly instances = new Map<string, Instance>();
  /** The same for every process, as a deployment shares one secret. */
  private readonly signingKey = randomBytes(24).toString('base64url');
  private readonly servers: { amqpUrl: string; databaseUrl: string };
  private database: TestDatabase | undefined;
  private vhost: RabbitVhost | undefined;
  private pg: Client | undefined;
  /**
   * The gateway's admin key: handed to it as `API_BOOTSTRAP_KEY` (stored on its first start,
   * when its schema holds no key), made as `stratavore keys generate` makes one.
   */
  readonly apiKey = generateApiKey().key;

  /** Fails at once without AMQP_URL; starts nothing until {@link start}. */
  constructor(
    private readonly sandbox: Sandbox,
    private readonly options: FleetOptions = {},
  ) {
    this.servers = requireFleetServers();
  }

  get databaseUrl(): string {
    if (!this.database) throw new Error('the fleet has no database yet');
    return this.database.url;
  }

  get vhostName(): string {
    return this.vhost?.name ?? '(none)';
  }

  get gatewayUrl(): string {
    return this.process('api-gateway').url;
  }

  /** The instances of a service (`runner-manager-1`, `runner-manager-2`, ...) or all of them. */
  names(service?: ServiceName): string[] {
    return [...this.instances.values()]
      .filter((instance) => service === undefined || instance.service === service)
      .map((instance) => instance.name);
  }

  /** The current process of an instance. */
  process(name: string): ServiceProcess {
    const current = this.instances.get(name)?.current;
    if (!current) throw new Error(`the fleet has no running ${name}`);
    return current;
  }

  /**
   * Where every runner-manager of the fleet keeps agent and runner logs: one dir, as replicas on
   * one host share it, so that any of them can serve any runner's log.
   */
  get runnerLogDir(): string {
    return join(this.sandbox.root, 'runner-logs');
  }

  /** One query on the fleet's database (the tests' view of what the services stored). */
  async query<T extends Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    if (!this.pg) {
      const client = new Client({ connectionString: this.databaseUrl, application_name: 'e2e' });
      await client.connect();
      this.pg = client;
    }
    return (await this.pg.query<T>(sql, params)).rows;
  }

  /** Consumers of a queue in the fleet's vhost (`rpc.runner-manager`: one per runner-manager). */
  consumers(queue: string): Promise<number> {
    if (!this.vhost) throw new Error('the fleet has no vhost yet');
    return this.vhost.consumers(queue);
  }

  /** SIGTERM to these instances at once; their exit statuses by name. */
  async stop(names: readonly string[]): Promise<Record<string, ExitStatus>> {
    const statuses = await Promise.all(names.map((name) => this.process(name).stop()));
    return Object.fromEntries(names.map((name, i) => [name, statuses[i]!]));
  }

  /** Starts these instances again on the ports they had, with `env` added; waits until ready. */
  async startAgain(names: readonly string[], env: Record<string, string> = {}): Promise<void> {
    await Promise.all(
      names.map((name) => {
        const port = this.process(name).port;
        return this.launch(name, { ...env, HTTP_PORT: String(port) });
      }),
    );
  }

  /** Stops every instance (SIGTERM, in parallel); their exit statuses by name. */
  async stopAll(): Promise<Record<string, ExitStatus>> {
    const running = [...this.instances.values()]
      .filter((instance) => instance.current?.running)
      .map((instance) => instance.name);
    return this.stop(running);
  }

  /** The tail of every start's log, for a failure message. */
  diagnostics(lines = 40): string {
    const parts = [`fleet: database ${this.database?.name ?? '(none)'}, vhost ${this.vhostName}`];
    for (const instance of this.instances.values()) {
      instance.starts.forEach((start, i) => {
        const state = start.running ? 'running' : 'exited';
        parts.push(
          `--- ${instance.name} (start ${i + 1}, pid ${start.pid}, ${state}; ${start.logPath})\n${start.tail(lines)}`,
        );
      });
    }
    return parts.join('\n');
  }

  /** `error` with the services' logs appended (what a failed test prints). */
  explain(error: unknown): Error {
    const base = error instanceof Error ? error : new Error(String(error));
    base.message = `${base.message}\n\nservice logs:\n${this.diagnostics()}`;
    return base;
  }

  /** Runs `step`; a failure carries the services' logs. */
  async withLogs<T>(step: () => Promise<T> | T): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Stops whatever still runs (SIGKILL past the deadline), drops the database, deletes the vhost. */
  async cleanup(): Promise<void> {
    const failures: string[] = [];
    for (const instance of this.instances.values()) {
      for (const start of instance.starts) {
        await start.stop(30_000).catch((error: Error) => {
          start.kill();
          failures.push(error.message);
        });
      }
    }
    await this.pg?.end().catch(() => undefined);
    await this.database
      ?.drop()
      .catch((error: Error) => failures.push(`dropping the database: ${error.message}`));
    await this.vhost
      ?.delete()
      .catch((error: Error) => failures.push(`deleting the vhost: ${error.message}`));
    if (failures.length > 0) {
      process.stderr.write(`e2e fleet cleanup:\n  ${failures.join('\n  ')}\n`);
    }
  }

  /**
   * Creates the database and vhost, starts every instance and waits until each is ready, then
   * logs the sandbox's CLI in. On failure, {@link cleanup} still removes what was made.
   */
  async start(): Promise<void> {
    this.database = await createTestDatabase('e2e_fleet', this.servers.databaseUrl);
    this.vhost = await createVhost(this.servers.amqpUrl);
    mkdirSync(join(this.sandbox.root, 'logs'), { recursive: true });

    const runnerManagers = this.options.runnerManagers ?? 1;
    // Every service but runner-manager, one instance each, started together.
    const first = SERVICES.filter((service) => service !== 'runner-manager');
    for (const service of first) {
      this.define(
        service,
        service,
        service === 'api-gateway' ? { API_BOOTSTRAP_KEY: this.apiKey } : {},
      );
    }
    await Promise.all(first.map((name) => this.launch(name)));

    // Agents report to heartbeat-ingest and upload transcripts to session-store, whose ports
    // are known now.
    const managers: string[] = [];
    for (let i = 1; i <= runnerManagers; i++) {
      const name = runnerManagers === 1 ? 'runner-manager' : `runner-manager-${i}`;
      this.define(name, 'runner-manager', {
        HEARTBEAT_URL: this.process('heartbeat-ingest').url,
        TRANSCRIPT_URL: this.process('session-store').url,
        RUNNER_LOG_DIR: this.runnerLogDir,
      });
      managers.push(name);
    }
    await Promise.all(managers.map((name) => this.launch(name)));

    const login = await this.sandbox.cli([
      'login',
      '--api-url',
      this.gatewayUrl,
      '--api-key',
      this.apiKey,
    ]);
    if (login.code !== 0) throw new Error(describeCli(login));
  }

  private define(name: string, service: ServiceName, env: Record<string, string> = {}): void {
    this.instances.set(name, { name, service, env, current: undefined, starts: [] });
  }

  private async launch(name: string, extraEnv: Record<string, string> = {}): Promise<void> {
    const instance = this.instances.get(name);
    if (!instance) throw new Error(`unknown instance ${name}`);
    if (!this.database || !this.vhost) throw new Error('the fleet has no database or vhost');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const variable of Object.keys(env)) {
      if (/^(STRATAVORE_|DATABASE_URL$|AMQP_URL$)/.test(variable)) delete env[variable];
    }
    Object.assign(env, {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: this.database.url,
      AMQP_URL: this.vhost.url,
      EVENT_SIGNING_KEY: this.signingKey,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ...this.options.env,
      ...this.options.serviceEnv?.[instance.service],
      ...instance.env,
      ...extraEnv,
    });
    const started = new ServiceProcess(
      name,
      instance.service,
      join(this.sandbox.root, 'logs', `${name}.log`),
      env,
    );
    instance.current = started;
    instance.starts.push(started);
    await started.ready();
  }
}
