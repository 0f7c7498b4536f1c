import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes an idle keep-alive connection only when it is still idle after the event loop has
 * read what arrived on it.
 *
 * Node's HTTP server closes a kept-alive connection when its idle timer fires. Timers run at
 * the start of an event-loop turn, before sockets are read, so when the loop was blocked past
 * the timer (a long PGlite query runs on this thread) a request that a client sent in time on
 * that connection is still unread when the timer fires: the server closed the socket under
 * it and the client got `ECONNRESET`. With this listener the server handles the timeout
 * itself: it looks again once sockets were read (`setImmediate` runs after the poll phase)
 * and closes the connection only if no byte arrived meanwhile; a request that did arrive is
 * served, and Node arms the idle timer again after answering it.
 *
 * @example
 * ```ts
 * const server = createServer(handler);
 * closeIdleConnectionsSafely(server);
 * ```
 */
export function closeIdleConnectionsSafely(server: Server): void {
  // With a 'timeout' listener the server no longer destroys timed-out sockets by itself.
  server.on('timeout', (socket: Socket) => {
    const bytesRead = socket.bytesRead;
    setImmediate(() => {
      if (!socket.destroyed && socket.bytesRead === bytesRead) socket.destroy();
    });
  });
}
