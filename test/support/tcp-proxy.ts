import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy that can take its target off the network and bring it back, on the same port. */
export interface TcpProxy {
  readonly port: number;
  /** Cuts every open connection and refuses new ones (the target looks unreachable). */
  stop(): Promise<void>;
  /** Accepts and forwards connections again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Forwards connections from a random local port to `target`, for fault tests: point a pool
 * at the proxy, `stop()` it to make the database unreachable, `start()` it to bring it back.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const forward = (client: Socket) => {
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  };
  let server: Server = createServer(forward);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    port,
    stop,
    async start() {
      server = createServer(forward);
      await listen(port);
    },
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
