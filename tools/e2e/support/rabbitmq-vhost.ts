// A RabbitMQ virtual host of its own for one end-to-end suite: every exchange and queue the
// services declare lives in it, so a suite never shares a queue with another run (or with the
// amqp integration tests), and deleting the vhost afterwards removes all of them at once.
// The services take the vhost from the path of AMQP_URL; nothing in them changes.
import { execFile } from 'node:child_process';

import { uniqueName } from '@stratavore/testing';

/** A vhost this suite created; `url` is AMQP_URL with the vhost as its path. */
export interface RabbitVhost {
  readonly name: string;
  readonly url: string;
  /** How it was made (and will be deleted). */
  readonly via: 'rabbitmqctl' | 'management API';
  /** How many consumers the queue has now (0 when it does not exist). */
  consumers(queue: string): Promise<number>;
  /** Deletes the vhost with everything in it. Safe to call twice. */
  delete(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const CTL_TIMEOUT_MS = 60_000;

export const VHOST_HOW_TO = [
  'The multi-process end-to-end suites create a RabbitMQ vhost of their own (and delete it after).',
  'They use one of:',
  '  - `rabbitmqctl` on this machine (broker on 127.0.0.1, run as root or as a user with the',
  "    broker's Erlang cookie), or",
  '  - the management HTTP API: `rabbitmq-plugins enable rabbitmq_management`, or',
  '    RABBITMQ_MANAGEMENT_URL=http://host:15672 when it is elsewhere; the user of AMQP_URL',
  '    needs the administrator tag.',
].join('\n');

function rabbitmqctl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: CTL_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message} ${stderr}`.trim()));
      } else {
        resolve(stdout);
      }
    });
  });
}

interface Broker {
  readonly url: URL;
  readonly user: string;
  readonly password: string;
}

async function management(
  broker: Broker,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const base = process.env.RABBITMQ_MANAGEMENT_URL ?? `http://${broker.url.hostname}:15672`;
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${broker.user}:${broker.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(`${method} ${base}${path}: ${cause ?? (error as Error).message}`);
  }
  if (response.status === 404 && method !== 'PUT') return null;
  if (!response.ok) {
    throw new Error(`${method} ${base}${path}: ${response.status} ${await response.text()}`);
  }
  const text = await response.text();
  return text ? (JSON.parse(text) as unknown) : null;
}

async function viaRabbitmqctl(broker: Broker, name: string): Promise<RabbitVhost> {
  if (!LOOPBACK.has(broker.url.hostname)) {
    throw new Error(
      `rabbitmqctl only reaches a broker on this machine, not ${broker.url.hostname}`,
    );
  }
  await rabbitmqctl(['add_vhost', name]);
  let deleted: Promise<void> | undefined;
  const vhost: RabbitVhost = {
    name,
    url: vhostUrl(broker.url, name),
    via: 'rabbitmqctl',
    consumers: async (queue) => {
      const lines = await rabbitmqctl([
        'list_queues',
        '-p',
        name,
        '-q',
        '--no-table-headers',
        'name',
        'consumers',
      ]);
      const row = lines
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find(([queueName]) => queueName === queue);
      return row ? Number(row[1]) : 0;
    },
    delete: () => (deleted ??= rabbitmqctl(['delete_vhost', name]).then(() => undefined)),
  };
  try {
    await rabbitmqctl(['set_permissions', '-p', name, broker.user, '.*', '.*', '.*']);
  } catch (error) {
    await vhost.delete().catch(() => undefined);
    throw error;
  }
  return vhost;
}

async function viaManagementApi(broker: Broker, name: string): Promise<RabbitVhost> {
  const path = `/api/vhosts/${encodeURIComponent(name)}`;
  await management(broker, 'PUT', path, {});
  let deleted: Promise<void> | undefined;
  const vhost: RabbitVhost = {
    name,
    url: vhostUrl(broker.url, name),
    via: 'management API',
    consumers: async (queue) => {
      const info = (await management(
        broker,
        'GET',
        `/api/queues/${encodeURIComponent(name)}/${encodeURIComponent(queue)}`,
      )) as { consumers?: number } | null;
      return info?.consumers ?? 0;
    },
    delete: () => (deleted ??= management(broker, 'DELETE', path).then(() => undefined)),
  };
  try {
    await management(
      broker,
      'PUT',
      `/api/permissions/${encodeURIComponent(name)}/${encodeURIComponent(broker.user)}`,
      { configure: '.*', write: '.*', read: '.*' },
    );
  } catch (error) {
    await vhost.delete().catch(() => undefined);
    throw error;
  }
  return vhost;
}

function vhostUrl(base: URL, name: string): string {
  const url = new URL(base.toString());
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * Creates a fresh vhost on the broker of `amqpUrl`, with full permissions for the URL's user:
 * through `rabbitmqctl` when the broker is on this machine, else (or when that fails) through
 * the management HTTP API. Fails with both reasons and how to fix it.
 */
export async function createVhost(
  amqpUrl: string,
  prefix = 'stratavore-e2e',
): Promise<RabbitVhost> {
  const url = new URL(amqpUrl);
  const broker: Broker = {
    url,
    user: decodeURIComponent(url.username) || 'guest',
    password: decodeURIComponent(url.password) || 'guest',
  };
  const name = uniqueName(prefix);
  const failures: string[] = [];
  for (const attempt of [viaRabbitmqctl, viaManagementApi]) {
    try {
      return await attempt(broker, name);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(
    `could not create a RabbitMQ vhost on ${url.host}:\n  ${failures.join('\n  ')}\n${VHOST_HOW_TO}`,
  );
}
