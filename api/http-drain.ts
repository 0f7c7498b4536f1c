import type { Server, ServerResponse } from 'node:http';

/** How a drain ended: requests answered during it, and those cut off when the grace period ran out. */
export interface DrainReport {
  readonly answered: number;
  readonly cutOff: number;
}

/** Graceful stop of a node:http server; see `trackRequests`. */
export interface HttpDrain {
  /** True from the moment `drain` is called. */
  readonly draining: boolean;
  /**
   * Stops accepting connections, closes idle keep-alive connections, marks every answer
   * still to be sent `Connection: close`, waits up to `graceMs` for the requests in flight,
   * then destroys the connections that remain. Resolves once the server is closed.
   */
  drain(graceMs: number): Promise<DrainReport>;
}

/**
 * Tracks the requests in flight on `server` so it can be drained: call before the server
 * listens.
 *
 * ```ts
 * const requests = trackRequests(server);
 * process.once('SIGTERM', () => requests.drain(10_000).then(() => process.exit(0)));
 * ```
 */
export function trackRequests(server: Server): HttpDrain {
  const inFlight = new Set<ServerResponse>();
  let draining: Promise<DrainReport> | undefined;
  let answered = 0;
  server.prependListener('request', (_request, response: ServerResponse) => {
    inFlight.add(response);
    if (draining !== undefined) response.setHeader('connection', 'close');
    response.once('close', () => {
      inFlight.delete(response);
      if (draining === undefined) return;
      if (response.writableFinished) answered += 1;
      // A connection whose answer went out before the drain began is idle (kept alive) now.
      setImmediate(() => server.closeIdleConnections());
    });
  });

  const drain = async (graceMs: number): Promise<DrainReport> => {
    for (const response of inFlight) if (!response.headersSent) response.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(resolve, graceMs, 'grace over')));
    const outcome = await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    const cutOff = outcome === 'grace over' ? inFlight.size : 0;
    if (outcome === 'grace over') server.closeAllConnections();
    await closed;
    return { answered, cutOff };
  };

  return {
    get draining() {
      return draining !== undefined;
    },
    drain(graceMs) {
      draining ??= drain(graceMs);
      return draining;
    },
  };
}
