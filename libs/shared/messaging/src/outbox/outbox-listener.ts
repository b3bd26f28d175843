import { Client } from 'pg';

import { OUTBOX_NOTIFY_CHANNEL } from './messaging-schema';
import { type OutboxWakeUpSource } from './outbox.ports';

export interface OutboxListenerOptions {
  /** `postgres://...`; the listener keeps one connection of its own, outside any pool. */
  readonly url: string;
  /** Delay before reconnecting after the connection dropped (default 1 000 ms). */
  readonly reconnectDelayMs?: number;
  readonly applicationName?: string;
  /** Connection failures, for logging; the listener keeps reconnecting. */
  readonly onError?: (error: unknown) => void;
}

/**
 * LISTENs on `stratavore_outbox` on a dedicated connection and calls back on every notification.
 * After (re)connecting it calls back once too, since notifications sent while it was away are
 * lost. A lost connection is re-established until {@link stop}.
 */
export class OutboxListener implements OutboxWakeUpSource {
  private client: Client | null = null;
  private onWake: (() => void) | null = null;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutboxListenerOptions) {}

  /** True while a LISTENing connection is up. */
  isListening(): boolean {
    return this.client !== null;
  }

  async start(onWake: () => void): Promise<void> {
    if (this.running) throw new Error('OutboxListener already started');
    this.running = true;
    this.onWake = onWake;
    try {
      await this.connect();
    } catch (error) {
      this.options.onError?.(error);
      this.scheduleReconnect();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName ?? 'outbox-listener',
      keepAlive: true,
    });
    const lost = (error?: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      if (error !== undefined) this.options.onError?.(error);
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('notification', (message) => {
      if (message.channel === OUTBOX_NOTIFY_CHANNEL) this.onWake?.();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_NOTIFY_CHANNEL}`);
    } catch (error) {
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (!this.running) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('error', lost);
    client.on('end', () => lost());
    this.client = client;
    this.onWake?.();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.running) return;
      this.connect().catch((error: unknown) => {
        this.options.onError?.(error);
        this.scheduleReconnect();
      });
    }, this.options.reconnectDelayMs ?? 1_000);
  }
}
