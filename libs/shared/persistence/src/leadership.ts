import { Client } from 'pg';

import { advisoryLockKey } from './advisory-key';

export interface AdvisoryLeadershipOptions {
  /** `postgres://...`; the leadership keeps one connection of its own, outside any pool. */
  readonly url: string;
  /** What the replicas compete for, e.g. `outbox-relay`; hashed to an advisory lock key. */
  readonly key: string;
  /** How often a follower retries and a leader checks its connection (default 2 000 ms). */
  readonly intervalMs?: number;
  readonly applicationName?: string;
  /** Called when this replica becomes the leader. */
  readonly onElected?: () => void;
  /** Called when it stops being the leader (connection lost or `stop()`); stop acting at once. */
  readonly onDemoted?: () => void;
  /** Connection and query failures, for logging; the campaign carries on. */
  readonly onError?: (error: unknown) => void;
}

/**
 * "Only one replica acts": each replica campaigns for a session advisory lock held on a dedicated
 * connection. The holder is the leader until its connection drops (the server then releases the
 * lock), after which every replica, including the old leader on a new connection, competes again.
 * A leader probes its connection every interval, so a silent loss is noticed within one interval.
 */
export class AdvisoryLeadership {
  private readonly lockKey: string;
  private readonly intervalMs: number;
  private client: Client | null = null;
  private leader = false;
  private running = false;
  private campaign: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly options: AdvisoryLeadershipOptions) {
    this.lockKey = advisoryLockKey(options.key);
    this.intervalMs = options.intervalMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Starts campaigning in the background; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.campaign = this.run();
  }

  /** Stops campaigning, gives the lock back if held and closes the connection. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.campaign;
    const client = this.client;
    this.client = null;
    if (client) {
      if (this.leader) {
        await client
          .query('SELECT pg_advisory_unlock($1::bigint)', [this.lockKey])
          .catch(() => undefined);
      }
      await client.end().catch(() => undefined);
    }
    this.setLeader(false);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.step();
      } catch (error) {
        this.options.onError?.(error);
        this.dropConnection();
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }

  private async step(): Promise<void> {
    const client = this.client ?? (await this.connect());
    if (this.leader) {
      await client.query('SELECT 1');
      return;
    }
    const result = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1::bigint) AS locked',
      [this.lockKey],
    );
    if (result.rows[0]?.locked === true) {
      if (!this.running) {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.lockKey]);
        return;
      }
      this.setLeader(true);
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName ?? `leadership:${this.options.key}`,
      keepAlive: true,
    });
    const lost = (error?: unknown) => {
      if (this.client !== client) return;
      if (error !== undefined) this.options.onError?.(error);
      this.dropConnection();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    this.client = client;
    return client;
  }

  private dropConnection(): void {
    const client = this.client;
    this.client = null;
    this.setLeader(false);
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
    }
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    if (leader) this.options.onElected?.();
    else this.options.onDemoted?.();
  }
}
