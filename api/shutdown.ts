import type { Database } from '../store/database.ts';
import { logger } from '../store/logger.ts';
import type { App } from './app.ts';
import { stopTracing } from './tracing.ts';

/** The least time given to ending the database pool, even when the drain used the whole grace period. */
const POOL_END_MS = 1_000;

/**
 * Stops the served app cleanly on SIGTERM or SIGINT: `/ready` turns 503, requests in flight
 * get up to `graceMs` to finish (see `App.close`), the database pool ends, and the process
 * exits with code 0. A second signal while stopping is logged and otherwise ignored (npm
 * forwards a terminal's Ctrl-C, so the server may receive it twice).
 *
 * ```ts
 * const app = await createApp(database, bundledDomain(), config);
 * await app.listen(config.port);
 * stopOnSignals(app, database, config.shutdownGraceMs);
 * ```
 */
export function stopOnSignals(app: App, database: Database, graceMs: number): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return logger.info({ signal }, 'already stopping');
    stopping = true;
    const deadline = Date.now() + graceMs;
    logger.info({ signal, graceMs }, 'stopping: no new connections, draining requests in flight');
    let code = 0;
    try {
      const report = await app.close({ graceMs });
      // Spans still buffered go out (when tracing is on), within the same deadline.
      await settlesWithin(stopTracing(), Math.max(deadline - Date.now(), POOL_END_MS));
      const poolEnded = await settlesWithin(database.close(), Math.max(deadline - Date.now(), POOL_END_MS));
      logger.info({ ...report, poolEnded }, 'stopped');
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'stopping failed');
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Whether `work` settles within `ms` (a query that never ends must not keep the process alive). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
