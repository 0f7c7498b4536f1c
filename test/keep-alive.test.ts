import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createApp, type App } from '../api/app.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';

/**
 * The flaky `ECONNRESET` of the HTTP suites on PGlite: a kept-alive connection whose idle
 * timer expired while the event loop was blocked (a long PGlite query runs on the server's
 * thread) was closed by the server although a request had already arrived on it. Engine
 * independent: only `/health` is asked, so PGlite alone serves.
 */

const REQUEST = 'GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n';

/** Blocks this thread, as a long synchronous PGlite query does. */
const blockEventLoop = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Everything the server sends on `socket` until it has answered `count` requests or closed the connection. */
async function answers(socket: Socket, count: number): Promise<string> {
  let text = '';
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if ((text.match(/"status":"ok"/g) ?? []).length >= count) resolve();
    });
    socket.once('close', () => resolve());
    socket.once('error', (error) => {
      text += `\n${String(error)}`;
      resolve();
    });
  });
  await done;
  return text;
}

describe('kept-alive connections', () => {
  let database: TestDatabase;
  let app: App;
  let port: number;

  beforeAll(async () => {
    database = await createTestDatabase('pglite', { migrate: false });
    app = await createApp(database, { dev: false, maxBodyBytes: 1000 });
    port = await app.listen(0);
    // Short idle timeout so that a short block outlasts it; the mechanism is the same at 5 s.
    app.server.keepAliveTimeout = 100;
    Object.assign(app.server, { keepAliveTimeoutBuffer: 0 }); // Node 24 adds 1 s to the timeout by default
  });
  afterAll(async () => {
    await app?.close({ graceMs: 1000 });
    await database?.dispose();
  });

  it('serve a request that arrived while the event loop was blocked past their idle timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const received = answers(socket, 2);
    socket.write(REQUEST);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    blockEventLoop(400);
    socket.write(REQUEST); // before the overdue idle timer of the server has run
    const text = await received;
    socket.destroy();
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it('are still closed when they stay idle', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const received = answers(socket, 2);
    socket.write(REQUEST);
    const text = await received; // ends when the server closes the idle connection
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(1);
    expect(socket.readableEnded || socket.destroyed).toBe(true);
  });
});
