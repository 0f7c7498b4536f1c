import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runOpenLoad } from './open-load.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/**
 * A server answering `{"ok":true}` to the n-th request after `delayOf(n)` ms, or closing its
 * connection instead when `delayOf` says `'close'`.
 */
async function listen(delayOf: (n: number) => number | 'close', keepAliveMs = 5_000): Promise<string> {
  let count = 0;
  server = createServer((request, response) => {
    count += 1;
    const delay = delayOf(count);
    request.resume();
    request.on('end', () => {
      if (delay === 'close') return (request.socket as Socket).destroy();
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.end('{"ok":true}');
      }, delay);
    });
  });
  server.keepAliveTimeout = keepAliveMs;
  Object.assign(server, { keepAliveTimeoutBuffer: 0 }); // Node 24 adds 1 s by default
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

describe('runOpenLoad', () => {
  it('replaces a connection the server closed for idling, so the next request is answered', async () => {
    // A request every 250 ms; the server closes a connection 100 ms after its last answer.
    const url = await listen(() => 5, 100);
    const result = await runOpenLoad({ url, rate: 4, seconds: 2, connections: 2, body: () => '{}' });
    expect(result.firstFailure).toBeUndefined();
    expect(result.failures).toBe(0);
    expect(result.requests).toBe(8);
  });

  it('counts a request whose connection closed before its answer as failed, and goes on on a new connection', async () => {
    const url = await listen((n) => (n === 3 ? 'close' : 5));
    const result = await runOpenLoad({ url, rate: 20, seconds: 0.5, connections: 2, body: () => '{}' });
    expect(result.requests).toBe(9);
    expect(result.firstFailure).toBe('the connection closed before the answer');
    expect(result.failures).toBeGreaterThanOrEqual(1);
  });
});
