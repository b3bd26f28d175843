import { type EventEnvelope } from '@stratavore/contracts';
import { type RegistryWrites } from '@stratavore/heartbeat-ingest-data-access';
import { type DeliveredEvent, type HandlerResult, type InboxResult } from '@stratavore/messaging';
import { z } from 'zod';

import { type RegistryChange } from './runner-registry-cache';

/** The inbox consumer name and queue of heartbeat-ingest. */
export const HEARTBEAT_INGEST_CONSUMER = 'heartbeat-ingest';

/** runner-manager's events that keep the registry current. */
export const REGISTRY_PATTERNS = [
  'runner.launched',
  'runner.stopping',
  'runner.stopped',
  'runner.completed',
  'runner.failed',
] as const;

/**
 * What heartbeat-ingest needs in `runner.launched` to serve a runner. `tokenHash` and
 * `heartbeatIntervalMs` are not (yet) in runner-manager's contract: they must be added to it
 * (docs/heartbeats.md); without `tokenHash` the event is dead-lettered.
 */
export const runnerRegistrationSchema = z.object({
  runnerId: z.uuid(),
  projectId: z.uuid(),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected sha256 hex' }),
  heartbeatIntervalMs: z.number().int().positive().optional(),
});

const runnerRefSchema = z.object({ runnerId: z.uuid() });

/** The registry side of the store. */
export interface RegistryInbox {
  runOnce(
    consumer: string,
    eventId: string,
    work: (registry: RegistryWrites) => Promise<void>,
  ): Promise<InboxResult>;
}

export interface ConsumerLogger {
  warn(message: string): void;
}

class RunnerNotRegisteredYet extends Error {}

/**
 * Keeps the registry current from runner-manager's events, once per event (inbox):
 * `runner.launched` registers the runner, `runner.stopping` asks it to stop, a terminal state
 * ends it. An event about a runner not registered yet is retried (its `runner.launched` may
 * still be on its way), then dead-lettered by the bus. Once a change has committed it is passed
 * to `committed` (this replica's registry cache).
 */
export class RunnerRegistryConsumer {
  constructor(
    private readonly deps: {
      readonly store: RegistryInbox;
      readonly defaultIntervalMs: number;
      readonly logger: ConsumerLogger;
      readonly committed?: (change: RegistryChange) => void;
      /** Inbox consumer name (default {@link HEARTBEAT_INGEST_CONSUMER}). */
      readonly consumer?: string;
    },
  ) {}

  readonly handle = async (event: DeliveredEvent): Promise<HandlerResult> => {
    const { envelope } = event;
    try {
      await this.apply(envelope);
      return 'ack';
    } catch (error) {
      if (error instanceof z.ZodError) {
        this.deps.logger.warn(
          `${envelope.type} ${envelope.id} cannot register the runner: ${error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
        return 'dead-letter';
      }
      if (error instanceof RunnerNotRegisteredYet) return 'retry';
      throw error;
    }
  };

  private async apply(envelope: EventEnvelope): Promise<void> {
    const at = new Date(envelope.time);
    switch (envelope.type) {
      case 'runner.launched': {
        const data = runnerRegistrationSchema.parse(envelope.data);
        const registration = {
          runnerId: data.runnerId,
          projectId: data.projectId,
          tokenHash: data.tokenHash,
          intervalMs: data.heartbeatIntervalMs ?? this.deps.defaultIntervalMs,
          registeredAt: at,
        };
        let inserted = false;
        await this.once(envelope, async (registry) => {
          inserted = await registry.register(registration);
        });
        // Only a row this event inserted is known to hold exactly these values.
        if (inserted) {
          const { registeredAt: _registeredAt, ...access } = registration;
          this.deps.committed?.({
            kind: 'registered',
            runner: { ...access, desiredState: 'run', ended: false },
          });
        }
        return;
      }
      case 'runner.stopping': {
        const { runnerId } = runnerRefSchema.parse(envelope.data);
        await this.once(envelope, async (registry) => {
          if (!(await registry.setDesiredState(runnerId, 'stop'))) {
            throw new RunnerNotRegisteredYet(runnerId);
          }
        });
        this.deps.committed?.({ kind: 'stop-requested', runnerId });
        return;
      }
      case 'runner.stopped':
      case 'runner.completed':
      case 'runner.failed': {
        const { runnerId } = runnerRefSchema.parse(envelope.data);
        await this.once(envelope, async (registry) => {
          if (!(await registry.markEnded(runnerId, at))) throw new RunnerNotRegisteredYet(runnerId);
        });
        this.deps.committed?.({ kind: 'ended', runnerId });
        return;
      }
      default:
        return;
    }
  }

  private async once(
    envelope: EventEnvelope,
    work: (registry: RegistryWrites) => Promise<void>,
  ): Promise<void> {
    await this.deps.store.runOnce(
      this.deps.consumer ?? HEARTBEAT_INGEST_CONSUMER,
      envelope.id,
      work,
    );
  }
}

/** The events another replica's registry consumer commits that change what heartbeats see. */
export const REGISTRY_FOLLOW_PATTERNS = [
  'runner.stopping',
  'runner.stopped',
  'runner.completed',
  'runner.failed',
] as const;

/**
 * What an event changes in the registry, without the registry: for a replica's cache, from its
 * own transient queue. `runner.launched` gives nothing here: a runner is cached from the
 * registry once its registration has committed (read on first sight), so a heartbeat is never
 * accepted for a runner whose row a flush would not find.
 */
export function registryChangeOf(envelope: EventEnvelope): RegistryChange | null {
  const ref = runnerRefSchema.safeParse(envelope.data);
  if (!ref.success) return null;
  const { runnerId } = ref.data;
  switch (envelope.type) {
    case 'runner.stopping':
      return { kind: 'stop-requested', runnerId };
    case 'runner.stopped':
    case 'runner.completed':
    case 'runner.failed':
      return { kind: 'ended', runnerId };
    default:
      return null;
  }
}

/**
 * Follows registry changes on this replica's transient queue (replicas share the registry
 * consumer's queue, so each sees only part of its events) and applies them to its cache.
 * Nothing is retried: the cache's TTL and the next flush correct a lost event.
 */
export class RunnerRegistryFollower {
  constructor(private readonly apply: (change: RegistryChange) => void) {}

  readonly handle = (event: DeliveredEvent): Promise<HandlerResult> => {
    const change = registryChangeOf(event.envelope);
    if (change) this.apply(change);
    return Promise.resolve('ack');
  };
}
