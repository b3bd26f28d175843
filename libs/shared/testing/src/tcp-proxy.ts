import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * A TCP forwarder on 127.0.0.1 (random port) in front of a real server, to take the network
 * away from a client under test: {@link cut} destroys every open connection and refuses new ones
 * (as if the server went away), {@link restore} lets connections through again, and
 * {@link stallServerToClient} keeps connections open but stops the server's bytes from arriving
 * (a half-dead network: requests go out, no reply or confirm comes back).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<{ readonly client: Socket; readonly upstream: Socket }>();
  private open = true;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: TcpProxyTarget,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Starts a proxy to `target` (`{ host, port }` or a URL such as `amqp://host:5672`). */
  static async start(target: TcpProxyTarget | string): Promise<TcpProxy> {
    const resolved = typeof target === 'string' ? fromUrl(target) : target;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP port');
    return new TcpProxy(server, address.port, resolved);
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Connections currently forwarded (client and server side each count once). */
  connectionCount(): number {
    return this.sockets.size;
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.clear();
  }

  restore(): void {
    this.open = true;
  }

  /**
   * On every connection open now, stops forwarding server -> client bytes (they stay unread in
   * the proxy) while client -> server still flows. Connections opened later are not affected.
   */
  stallServerToClient(): void {
    for (const { client, upstream } of this.pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (!this.open) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: this.target.host, port: this.target.port });
    const pair = { client, upstream };
    this.pairs.add(pair);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.pairs.delete(pair);
        for (const other of [client, upstream]) if (other !== socket) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

function fromUrl(url: string): TcpProxyTarget {
  const parsed = new URL(url);
  const defaults: Record<string, number> = {
    'amqp:': 5672,
    'postgres:': 5432,
    'postgresql:': 5432,
  };
  const port = parsed.port ? Number(parsed.port) : defaults[parsed.protocol];
  if (!port) throw new Error(`no port in ${parsed.protocol} URL`);
  return { host: parsed.hostname, port };
}
