import { once } from 'node:events';
import { connect } from 'node:net';

const REQUEST = 'GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n';

/** Blocks this thread, as a long synchronous PGlite query does. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Sends `GET /health` twice on one kept-alive connection to `port`, the second right after
 * blocking the event loop for `blockMs` (longer than the server's idle timeout), before the
 * overdue idle timer has had a chance to run; resolves with the number of `200 OK` answers
 * received before the server closed the connection or answered both.
 */
export async function answersAcrossBlockedLoop(port: number, blockMs: number): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  const answered = () => (text.match(/HTTP\/1\.1 200 OK/g) ?? []).length;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if ((text.match(/"status":"ok"/g) ?? []).length >= 2) resolve();
    });
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
  socket.write(REQUEST);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  blockEventLoop(blockMs);
  socket.write(REQUEST);
  await done;
  socket.destroy();
  return answered();
}

/** Sends `GET /health` once and resolves when the server has closed the idle connection. */
export async function closedWhenIdle(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.resume();
  socket.write(REQUEST);
  await once(socket, 'close');
  return true;
}
