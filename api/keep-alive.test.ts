import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answersAcrossBlockedLoop, closedWhenIdle } from '../test/support/kept-alive-requests.ts';
import { closeIdleConnectionsSafely } from './keep-alive.ts';

describe('closeIdleConnectionsSafely', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('{"status":"ok"}');
    });
    closeIdleConnectionsSafely(server);
    // A short idle timeout, so that a short block outlasts it; the mechanism is the same at 5 s.
    server.keepAliveTimeout = 100;
    Object.assign(server, { keepAliveTimeoutBuffer: 0 }); // Node 24 adds 1 s to the timeout by default
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves a request that arrived on a kept-alive connection while the event loop was blocked past its idle timeout', async () => {
    expect(await answersAcrossBlockedLoop(port, 400)).toBe(2);
  });

  it('still closes a connection that stays idle', async () => {
    expect(await closedWhenIdle(port)).toBe(true);
  });
});
