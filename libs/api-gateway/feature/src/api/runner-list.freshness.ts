import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type RunnerListReply } from '@stratavore/contracts';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@stratavore/messaging';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { type ReadCache, RUNNER_LIST_CACHE } from './read-cache';

/**
 * Events after which a cached runner page may be wrong: every runner state change and
 * restart plan (`runner.*`), heartbeat-ingest's first and last report and its stale verdicts
 * (`heartbeat.*`), and sessions starting and ending (`session.*`). `usage.reported`, the
 * frequent one, is left out: token counters may be `ttlMs` old like the rest of the liveness.
 */
export const RUNNER_CHANGE_PATTERNS = ['runner.#', 'heartbeat.#', 'session.#'] as const;

/**
 * Keeps the runner list cache honest: subscribes this gateway instance to
 * {@link RUNNER_CHANGE_PATTERNS} (a transient queue, `api-gateway.runner-changes.<instance>`)
 * and drops the cached pages on each delivery. The cache serves only while that subscription is
 * up and the bus connected; until then, and when the subscription cannot be taken (logged),
 * every read goes to the services.
 */
@Injectable()
export class RunnerListFreshness implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ReadCache');
  private subscription?: Subscription;
  private stopped = false;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(RUNNER_LIST_CACHE) private readonly cache: ReadCache<RunnerListReply>,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  get consumer(): string {
    return `api-gateway.runner-changes.${this.options.instanceId}`;
  }

  onApplicationBootstrap(): void {
    if (!this.cache.configured) return;
    // Not awaited: a broker that is still starting must not hold up the API.
    void this.subscribe();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.cache.listenTo(() => false);
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.cancel();
  }

  private async subscribe(): Promise<void> {
    try {
      const subscription = await this.bus.subscribe(
        { consumer: this.consumer, patterns: RUNNER_CHANGE_PATTERNS, transient: true },
        () => {
          this.cache.invalidate();
          return Promise.resolve('ack');
        },
      );
      if (this.stopped) {
        await subscription.cancel();
        return;
      }
      this.subscription = subscription;
      this.cache.listenTo(() => this.bus.isConnected());
    } catch (error) {
      this.logger.warn(
        `runner list cache off: cannot subscribe ${this.consumer} (${String(error)}); every list is read from the services`,
      );
    }
  }
}
