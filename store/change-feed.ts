import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { logger } from './logger.ts';

/**
 * Called with the payload of each notification on a channel, or with `null` when
 * notifications may have been missed (the feed (re)connected): treat everything as changed.
 * A listener may also be called for a change that was rolled back, so it should only
 * invalidate (drop a cache entry, reload), never act on the payload as a committed fact.
 */
export type ChangeListener = (payload: string | null) => void;

/**
 * Change notifications between the processes serving one database, for caches that must
 * not outlive a change (API keys today; definitions and snapshots can reuse it).
 *
 * ```ts
 * const stop = database.changes.subscribe('strata_api_keys', (name) => cache.drop(name));
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('strata.api_keys').set({ revoked_at: new Date() }).where('name', '=', name).execute();
 *   await database.changes.notify(trx, 'strata_api_keys', name);
 * });
 * ```
 */
export interface ChangeFeed {
  /** Calls `listener` for every notification on `channel`; returns the unsubscribe function. */
  subscribe(channel: string, listener: ChangeListener): () => void;
  /**
   * Sends `payload` on `channel` as part of `trx`: other processes receive it when `trx`
   * commits (PostgreSQL NOTIFY), and this process's listeners at once.
   */
  notify(trx: Kysely<DatabaseSchema>, channel: string, payload: string): Promise<void>;
  /**
   * Whether every change made anywhere reaches this process's listeners: always on PGlite
   * (one process owns the data); on PostgreSQL only while the LISTEN connection is up.
   * While it is false, a cache must not serve anything whose staleness would grant access.
   */
  readonly live: boolean;
  /**
   * Resolves true once every change committed anywhere before the call (or before `since`,
   * a `performance.now()` reading such as the arrival of the request being answered) has
   * reached this process's listeners; false when that cannot be known now (not live, or no
   * answer in time), and then a cache must not be trusted. Concurrent calls share one round
   * trip, and with `since` a round trip sent at or after it already answers: the second
   * cache a request consults costs nothing more.
   */
  sync(since?: number): Promise<boolean>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** A channel name is a fixed identifier of the code, never request data. */
export function checkChannel(channel: string): string {
  if (!CHANNEL.test(channel)) throw new Error(`change channel '${channel}' must be a lower-case identifier`);
  return channel;
}

/** The listeners of each channel of one feed. */
export class Subscribers {
  readonly #byChannel = new Map<string, Set<ChangeListener>>();

  add(channel: string, listener: ChangeListener): () => void {
    const set = this.#byChannel.get(checkChannel(channel)) ?? new Set();
    this.#byChannel.set(channel, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byChannel.delete(channel);
    };
  }

  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  /** Delivers to one channel's listeners; a throwing listener is logged and does not stop the others. */
  dispatch(channel: string, payload: string | null): void {
    for (const listener of [...(this.#byChannel.get(channel) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        logger.error({ err: error instanceof Error ? error.message : String(error), channel }, 'change listener failed');
      }
    }
  }

  /** Tells every listener that notifications may have been missed. */
  dispatchMissed(): void {
    for (const channel of this.channels()) this.dispatch(channel, null);
  }
}

/**
 * The feed of an embedded PGlite database: one process owns the data folder, so a change
 * only needs to reach this process's listeners, which `notify` calls directly (PGlite runs
 * one statement at a time, so no reader sees the old row after the listeners ran and before
 * the transaction ends).
 */
export function createInProcessChangeFeed(): ChangeFeed {
  const subscribers = new Subscribers();
  return {
    subscribe: (channel, listener) => subscribers.add(channel, listener),
    async notify(_trx, channel, payload) {
      subscribers.dispatch(checkChannel(channel), payload);
    },
    live: true,
    sync: async () => true,
    async close() {},
  };
}

/** `pg_notify` inside the caller's transaction: PostgreSQL delivers it to every listener at commit. */
export async function sendNotify(trx: Kysely<DatabaseSchema>, channel: string, payload: string): Promise<void> {
  await sql`SELECT pg_notify(${checkChannel(channel)}, ${payload})`.execute(trx);
}
