import { type ChannelWrapper } from 'amqp-connection-manager';
import { type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';

import { type OutgoingEvent, type PublishFailureReason, type PublishOutcome } from './bus.ports';

export interface ConfirmPublisherOptions {
  readonly exchange: string;
  /** Declares `exchange` (and what it needs) on every new channel; default: a durable topic. */
  readonly declareExchange?: (channel: Channel) => Promise<void>;
  readonly publishTimeoutMs: number;
  /** Most messages awaiting a broker confirm at once. */
  readonly maxInFlight: number;
  /** True while the AMQP connection is up; tells `disconnected` from `channel_closed`. */
  readonly connectionUp: () => boolean;
}

/**
 * Publisher-confirm hot path.
 *
 * ChannelWrapper.publish() queues every message internally and hands each one to the channel
 * from its own worker, one promise per message, and on a broken connection it keeps messages
 * queued and replays them after reconnecting. The outbox relay needs the opposite: a fast
 * window of messages in flight and an honest per-message outcome right away (the relay retries
 * unconfirmed rows itself). So the wrapper only owns reconnection and topology (the setup
 * function below re-runs on every new channel) and this class publishes straight onto the raw
 * amqplib ConfirmChannel the setup captured, with a callback per message and no await between
 * messages. The broker confirms with `multiple` acks, which amqplib fans out to the callbacks.
 *
 * `mandatory` messages that no queue takes come back as `basic.return` before their ack on the
 * same channel, so a return seen for a message id turns the following ack into `returned`.
 *
 * Batches go on the wire in call order, never interleaved: a batch starts writing only once every
 * earlier batch has handed all its messages to the channel (the outbox relay pipelines batches
 * and relies on this for the order of a subject's events). Confirms of several batches overlap.
 */
export class ConfirmPublisher {
  private channel?: ConfirmChannel;
  private returned = new Set<string>();
  private readonly active = new Set<Promise<PublishOutcome[]>>();
  /** Batches still writing, in call order; only the first one writes. */
  private readonly writers: Array<() => void> = [];

  constructor(
    private readonly wrapper: ChannelWrapper,
    private readonly options: ConfirmPublisherOptions,
  ) {}

  /** The setup to register on the wrapper: declares the exchange and captures the channel. */
  readonly setup = async (channel: ConfirmChannel): Promise<void> => {
    if (this.options.declareExchange) await this.options.declareExchange(channel);
    else await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    const returned = new Set<string>();
    channel.on('return', (message: ConsumeMessage) => {
      const id = message.properties.messageId as unknown;
      if (typeof id === 'string') returned.add(id);
    });
    channel.once('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.returned = returned;
    this.channel = channel;
  };

  async waitForChannel(): Promise<void> {
    await this.wrapper.waitForConnect();
  }

  isReady(): boolean {
    return this.channel !== undefined && this.options.connectionUp();
  }

  /** Waits (bounded by each batch's own timeout) for the batches in flight. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.active]);
  }

  publishBatch(messages: readonly OutgoingEvent[], timeoutMs?: number): Promise<PublishOutcome[]> {
    const batch = this.run(messages, timeoutMs ?? this.options.publishTimeoutMs);
    this.active.add(batch);
    void batch.finally(() => this.active.delete(batch));
    return batch;
  }

  private run(messages: readonly OutgoingEvent[], timeoutMs: number): Promise<PublishOutcome[]> {
    const total = messages.length;
    if (total === 0) return Promise.resolve([]);
    const channel = this.channel;
    if (!channel || !this.options.connectionUp()) {
      return Promise.resolve(
        messages.map((m) => failure(m.messageId, 'disconnected', 'not connected to RabbitMQ')),
      );
    }
    const returned = this.returned;
    const { exchange, maxInFlight } = this.options;

    return new Promise<PublishOutcome[]>((resolve) => {
      const outcomes = new Array<PublishOutcome | undefined>(total);
      let next = 0;
      let inFlight = 0;
      let settled = 0;
      let waitingForDrain = false;
      let broken: { reason: PublishFailureReason; detail: string } | undefined;
      let finished = false;
      let pumping = false;

      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        channel.removeListener('drain', onDrain);
        doneWriting();
        resolve(outcomes as PublishOutcome[]);
      };

      // Our turn to write comes once the batches called before us have written everything.
      const doneWriting = () => {
        const at = this.writers.indexOf(pump);
        if (at < 0) return;
        this.writers.splice(at, 1);
        if (at === 0) this.writers[0]?.();
      };

      const settle = (index: number, outcome: PublishOutcome) => {
        if (finished || outcomes[index]) return;
        outcomes[index] = outcome;
        settled++;
        inFlight--;
        if (settled === total) finish();
        else pump();
      };

      const breakBatch = (reason: PublishFailureReason, detail: string) => {
        broken ??= { reason, detail };
        pump();
      };

      const onDrain = () => {
        waitingForDrain = false;
        pump();
      };

      const pump = () => {
        // settle() calls pump(); the guard keeps that from recursing once per message.
        if (finished || pumping) return;
        pumping = true;
        try {
          publishMore();
        } finally {
          pumping = false;
        }
      };

      const publishMore = () => {
        if (broken) {
          // Nothing more goes out; what was never sent fails with the same reason.
          while (next < total) {
            const index = next++;
            inFlight++;
            settle(index, failure(messages[index]!.messageId, broken.reason, broken.detail));
          }
          doneWriting();
          return;
        }
        if (this.writers[0] !== pump) return;
        while (next < total && inFlight < maxInFlight && !waitingForDrain) {
          const index = next++;
          const message = messages[index]!;
          inFlight++;
          try {
            const hasRoom = channel.publish(
              exchange,
              message.routingKey,
              message.body,
              {
                persistent: true,
                mandatory: true,
                messageId: message.messageId,
                contentType: 'application/json',
                ...(message.headers ? { headers: message.headers } : {}),
              },
              (error: unknown) => onConfirm(index, message.messageId, error),
            );
            if (!hasRoom) {
              waitingForDrain = true;
              channel.once('drain', onDrain);
            }
          } catch (error) {
            // The channel is already closed: publish() throws instead of calling back.
            broken ??= { reason: this.closedReason(), detail: errorText(error) };
            settle(index, failure(message.messageId, broken.reason, broken.detail));
            publishMore();
            return;
          }
        }
        if (next === total) doneWriting();
      };

      const onConfirm = (index: number, messageId: string, error: unknown) => {
        if (!error) {
          settle(
            index,
            returned.delete(messageId)
              ? failure(messageId, 'returned', `no queue bound for ${messages[index]!.routingKey}`)
              : { messageId, ok: true },
          );
          return;
        }
        returned.delete(messageId);
        if (errorText(error) === 'message nacked') {
          settle(index, failure(messageId, 'nacked', 'broker nacked the message'));
          return;
        }
        // amqplib fails every outstanding confirm with "channel closed" while the connection is
        // still tearing down; the connection's own close event follows in the same tick, so
        // decide between channel_closed and disconnected once that has run.
        queueMicrotask(() => {
          const reason = this.closedReason();
          settle(index, failure(messageId, reason, errorText(error)));
          breakBatch(reason, errorText(error));
        });
      };

      const timer = setTimeout(() => {
        for (let index = 0; index < total; index++) {
          if (!outcomes[index]) {
            outcomes[index] = failure(
              messages[index]!.messageId,
              'timeout',
              `no broker confirm within ${timeoutMs} ms`,
            );
          }
        }
        finish();
      }, timeoutMs);

      this.writers.push(pump);
      pump();
    });
  }

  private closedReason(): PublishFailureReason {
    return this.options.connectionUp() ? 'channel_closed' : 'disconnected';
  }
}

function failure(messageId: string, reason: PublishFailureReason, detail: string): PublishOutcome {
  return { messageId, ok: false, reason, detail };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
