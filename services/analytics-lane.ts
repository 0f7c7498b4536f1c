import { availableParallelism } from 'node:os';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { StrataError } from '../modeling/errors.ts';

/** How much expensive work runs at once, and how much may wait for it. */
export interface AnalyticsCapacity {
  /** Works running at once (`STRATA_ANALYTICS_CONCURRENCY`); on PostgreSQL also the size of their pool. */
  readonly concurrency: number;
  /** Works waiting for a slot (`STRATA_ANALYTICS_QUEUE`); past it a work is refused at once. */
  readonly queue: number;
  /** Longest wait for a slot before a work is refused (`STRATA_ANALYTICS_QUEUE_TIMEOUT_MS`). */
  readonly queueTimeoutMs: number;
}

/**
 * By default one expensive read fewer than this machine has cores (at least 1, at most 4):
 * with the database on the same machine (the demo, a small deployment), heavy queries then
 * leave a core to the app teams' profile reads; the rest wait in the queue.
 */
export const DEFAULT_ANALYTICS_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism() - 1));

/**
 * PostgreSQL's `max_parallel_workers_per_gather` on the analytics connections, for a lane of
 * `concurrency` slots: the cores left once the lane's own backends and one core for profile
 * reads are counted (at most PostgreSQL's default of 2). On 2 cores that is 0: a heavy metric
 * query with parallel workers takes both cores (a leader and two workers), and the app teams'
 * profile reads then wait for a core however the lane caps the queries.
 */
export function defaultAnalyticsParallelWorkers(concurrency: number, cores = availableParallelism()): number {
  return Math.max(0, Math.min(2, cores - 1 - concurrency));
}

export const DEFAULT_ANALYTICS_CAPACITY: AnalyticsCapacity = { concurrency: DEFAULT_ANALYTICS_CONCURRENCY, queue: 32, queueTimeoutMs: 10_000 };

/**
 * The one way to run expensive reads (metric queries, previews, insight, audience counts and
 * pages, materialization): a semaphore with a bounded queue in front of their own
 * connections, so analytics load waits for analytics slots and never for the connections of
 * profile reads and event writes.
 */
export interface AnalyticsLane {
  /**
   * Runs `work` with the analytics connections once a slot is free. Refuses with
   * RATE_LIMITED (and `retryAfter` seconds) when the queue is full or the wait passes the
   * queue timeout. Works must not run the lane again from inside (with one slot, that waits forever).
   */
  run<T>(work: (db: Kysely<DatabaseSchema>) => Promise<T>): Promise<T>;
  /**
   * `run` for a work that only reads and may see data as of the read replica's lag (metric
   * queries, previews, insight, audience counts): it gets the replica's connections while a
   * replica serves (`Database.reads`), the primary's otherwise. A work that writes, or must
   * see a write just made, uses `run`.
   */
  read<T>(work: (db: Kysely<DatabaseSchema>) => Promise<T>): Promise<T>;
  /** Works running now and waiting now. */
  load(): { running: number; waiting: number };
}

interface Waiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A lane over `db` with the given capacity. The wait suggested to refused callers is the
 * recent average duration of a work times the queue ahead of them per slot (1-60 s).
 *
 * ```ts
 * const lane = createAnalyticsLane(database.analytics, { concurrency: 4, queue: 32, queueTimeoutMs: 10_000 });
 * const rows = await lane.run((db) => semantic.query(db, query, access));
 * ```
 */
export function createAnalyticsLane(db: Kysely<DatabaseSchema>, capacity: AnalyticsCapacity, reads: () => Kysely<DatabaseSchema> = () => db): AnalyticsLane {
  let running = 0;
  const waiting: Waiter[] = [];
  let averageMs = 1_000;

  const retryAfter = () => Math.min(60, Math.max(1, Math.ceil((averageMs * (waiting.length + running)) / capacity.concurrency / 1000)));
  const refuse = (why: string) =>
    new StrataError(
      'RATE_LIMITED',
      `${why}; retry after the seconds in Retry-After. Analytics capacity of this server: ${capacity.concurrency} running, ${capacity.queue} waiting (STRATA_ANALYTICS_CONCURRENCY, STRATA_ANALYTICS_QUEUE).`,
      { retryAfter: retryAfter(), limit: 'analyticsConcurrency' },
    );

  const acquire = (): Promise<void> => {
    if (running < capacity.concurrency) {
      running += 1;
      return Promise.resolve();
    }
    if (waiting.length >= capacity.queue) return Promise.reject(refuse('Every analytics slot is busy and the queue is full'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(refuse(`No analytics slot became free within ${capacity.queueTimeoutMs.toLocaleString('en-US')} ms (STRATA_ANALYTICS_QUEUE_TIMEOUT_MS)`));
        }, capacity.queueTimeoutMs).unref(),
      };
      waiting.push(waiter);
    });
  };

  const release = (startedAt: number) => {
    averageMs = 0.8 * averageMs + 0.2 * (performance.now() - startedAt);
    const next = waiting.shift();
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next) next.admit();
    else running -= 1;
  };

  const runOn = async <T>(target: () => Kysely<DatabaseSchema>, work: (db: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> => {
    await acquire();
    const startedAt = performance.now();
    try {
      return await work(target());
    } finally {
      release(startedAt);
    }
  };

  return {
    run: (work) => runOn(() => db, work),
    read: (work) => runOn(reads, work),
    load: () => ({ running, waiting: waiting.length }),
  };
}

/** A lane without a cap over `db`: for the command line and code that runs alone. */
export function unlimitedLane(db: Kysely<DatabaseSchema>): AnalyticsLane {
  return { run: (work) => work(db), read: (work) => work(db), load: () => ({ running: 0, waiting: 0 }) };
}
