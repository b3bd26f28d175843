import { connect, createServer, type Server, type Socket } from 'node:net';

import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

/** A line echo server that also records what it received. */
async function startEchoServer(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      received.push(chunk.toString('utf8'));
      socket.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, received };
}

/** A client socket through the proxy, collecting what comes back. */
async function dial(port: number): Promise<{ socket: Socket; replies: string[] }> {
  const replies: string[] = [];
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => replies.push(chunk.toString('utf8')));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, replies };
}

describe('TcpProxy', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let proxy: TcpProxy;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    echo = await startEchoServer();
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: echo.port });
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  });

  async function client() {
    const dialled = await dial(proxy.port);
    sockets.push(dialled.socket);
    return dialled;
  }

  it('forwards both ways and rewrites URLs to itself', async () => {
    const { socket, replies } = await client();
    socket.write('hello');
    await waitFor(() => replies.join('') === 'hello', { description: 'the echo' });
    expect(proxy.rewrite('amqp://guest:guest@broker:5672/vhost')).toBe(
      `amqp://guest:guest@127.0.0.1:${proxy.port}/vhost`,
    );
  });

  it('cut() drops open connections and refuses new ones until restore()', async () => {
    const { socket } = await client();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    proxy.cut();
    await closed;
    const refused = await client();
    await new Promise<void>((resolve) => refused.socket.once('close', () => resolve()));
    expect(refused.replies).toEqual([]);
    proxy.restore();
    const { socket: again, replies } = await client();
    again.write('back');
    await waitFor(() => replies.join('') === 'back', { description: 'the echo after restore' });
  });

  it('stallServerToClient() lets requests through but holds back the replies', async () => {
    const stalled = await client();
    stalled.socket.write('before');
    await waitFor(() => stalled.replies.join('') === 'before', { description: 'first echo' });

    proxy.stallServerToClient();
    stalled.socket.write('during');
    await waitFor(() => echo.received.includes('during'), { description: 'the server to get it' });
    // A connection opened afterwards still works; its echo travels the same loopback and event
    // loop as the held-back one, so by the time it arrives the stalled echo would have too.
    const fresh = await client();
    fresh.socket.write('fresh');
    await waitFor(() => fresh.replies.join('') === 'fresh', { description: 'the fresh echo' });
    expect(stalled.replies.join('')).toBe('before');
    expect(stalled.socket.destroyed).toBe(false);
  });
});
