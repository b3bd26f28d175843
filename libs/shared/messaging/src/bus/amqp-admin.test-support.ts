// Test-only broker access: inspect and delete what a test declared.
import { type Channel, type ChannelModel, connect, type GetMessage } from 'amqplib';

export class AmqpAdmin {
  private constructor(
    private readonly connection: ChannelModel,
    private channel: Channel,
  ) {}

  static async open(url: string): Promise<AmqpAdmin> {
    const connection = await connect(url);
    return new AmqpAdmin(connection, await AmqpAdmin.openChannel(connection));
  }

  // A passive declare of a missing queue closes the channel with an error event; without a
  // listener that event would be an unhandled error.
  private static async openChannel(connection: ChannelModel): Promise<Channel> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  /** Fetches one message (acking it) or undefined when the queue is empty. */
  async get(queue: string): Promise<GetMessage | undefined> {
    const message = await this.channel.get(queue, { noAck: true });
    return message === false ? undefined : message;
  }

  /** Whether the broker has the queue (a passive declare; a 404 closes the channel). */
  async queueExists(queue: string): Promise<boolean> {
    try {
      await this.channel.checkQueue(queue);
      return true;
    } catch {
      this.channel = await AmqpAdmin.openChannel(this.connection);
      return false;
    }
  }

  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Binds a new queue to an exchange the bus under test declared (with its own arguments). */
  async declareQueue(queue: string, exchange: string, pattern: string): Promise<void> {
    await this.channel.checkExchange(exchange);
    await this.channel.assertQueue(queue, { durable: true });
    await this.channel.bindQueue(queue, exchange, pattern);
  }

  async deleteQueues(...queues: string[]): Promise<void> {
    for (const queue of queues) await this.safely((ch) => ch.deleteQueue(queue));
  }

  async deleteExchanges(...exchanges: string[]): Promise<void> {
    for (const exchange of exchanges) await this.safely((ch) => ch.deleteExchange(exchange));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  // A failed delete (e.g. 404) closes the channel; reopen and carry on.
  private async safely(op: (channel: Channel) => Promise<unknown>): Promise<void> {
    try {
      await op(this.channel);
    } catch {
      this.channel = await AmqpAdmin.openChannel(this.connection);
    }
  }
}
