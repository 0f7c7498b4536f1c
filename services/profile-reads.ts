import type { Database } from '../store/database.ts';
import { readProfilesWithCounts, type ProfileWithCountsRow } from '../store/decision-store.ts';
import { readProfiles, type ProfileRow } from './snapshot.ts';

/**
 * Reads of more keys than this go out on their own, at once: they already spread a
 * statement's fixed cost over their rows, and merged with others they would serialize on one
 * PostgreSQL backend work that separate statements share among the cores (`customers(ids:
 * 100)` at 1,000,000 customers, 4 connections: 377 req/s merged, 511 alone).
 */
const COALESCED_READ_MAX_KEYS = 16;
/** Most keys in one coalesced statement: larger batches would serialize on one backend too. */
const MAX_KEYS_PER_STATEMENT = 128;

/** Reads that requests asked for in the same turn of the event loop, answered by one statement. */
export interface CoalescedReads<K, R> {
  /** The rows for `keys` (keys without a row have none), read together with the other reads asked for in this turn. */
  read(keys: readonly K[]): Promise<R[]>;
}

/** Reads of profile rows of the current snapshot by customer id. */
export type ProfileReads = CoalescedReads<string, ProfileRow>;

/** What `decide` reads of a customer: their profile row and their impression counters from `since` (a reporting-zone day). */
export interface ProfileWithCountsKey {
  readonly id: string;
  readonly since: string;
}

/** Reads of `decide`: one row per key, the profile columns null when the snapshot has no row. */
export type ProfileWithCountsReads = CoalescedReads<ProfileWithCountsKey, ProfileWithCountsRow>;

interface Waiting<K, R> {
  readonly keys: readonly K[];
  readonly resolve: (rows: R[]) => void;
  readonly reject: (error: unknown) => void;
}

/** How one kind of read is sent and how its rows are matched to the keys that asked for them. */
export interface ReadStatement<K, R> {
  /** Sends one statement for distinct keys (at most 1,000: a `customers(ids)` request's limit). */
  readonly send: (keys: readonly K[]) => Promise<R[]>;
  /** Identifies a key; keys with the same identity are read once. */
  readonly keyOf: (key: K) => string;
  /** The identity of the key a row answers. */
  readonly rowKey: (row: R) => string;
}

const sharedProfiles = new WeakMap<object, ProfileReads>();
const sharedWithCounts = new WeakMap<object, ProfileWithCountsReads>();

/**
 * The process-wide reader of unscoped profile rows of `database`. Under load, requests
 * resume together (they share the change feed's round trip, or arrive in the same poll of
 * the event loop), and each used to send its own one-row statement: one socket write, one
 * wake-up of a PostgreSQL backend, one parse and execution per request, the largest part of
 * the server's and the database's CPU per `customer(id)`. Reads asked for in the same turn
 * are sent as one statement once the turn's other work is done (`setImmediate`), so ten
 * concurrent requests cost one round trip; a read alone goes out in the next turn, as before.
 *
 * What each caller gets is unchanged: only the rows of the ids it asked for, from one
 * statement (one MVCC snapshot), on the replica while one serves. The statement reads the
 * published rows whoever asks (nothing in it depends on the caller); masking, the
 * personal-data read log and the caller's row scope stay with each request (services/profiles.ts
 * sends scoped reads on their own). A failed statement fails every read it carried, as each
 * alone would have failed. With tracing on, the statement's span belongs to the trace of the
 * request whose read opened the turn's batch.
 */
export function sharedProfileReads(database: Pick<Database, 'preparedRead'>): ProfileReads {
  return oncePer(sharedProfiles, database, () => coalescedProfileReads(database));
}

/**
 * The process-wide reader of `decide`'s profile and fatigue counters, coalesced like
 * `sharedProfileReads` and for the same reason: concurrent decisions resume together, and
 * each sent its own statement. It reads on the primary, where the impressions are counted,
 * and each statement is sent after every read it carries was asked for, so a decision sees
 * at least the impressions committed before it asked, as when it read alone (two decisions
 * for one customer in flight at once could always both pass a cap; that stays so).
 */
export function sharedProfileWithCountsReads(database: Pick<Database, 'prepared'>): ProfileWithCountsReads {
  return oncePer(sharedWithCounts, database, () => coalescedProfileWithCountsReads(database));
}

/** The reader `readers` holds for `database`, made on first use. */
function oncePer<T>(readers: WeakMap<object, T>, database: object, make: () => T): T {
  let reads = readers.get(database);
  if (!reads) readers.set(database, (reads = make()));
  return reads;
}

/** A coalescing reader of profile rows over `database`; see `sharedProfileReads`. */
export function coalescedProfileReads(database: Pick<Database, 'preparedRead'>): ProfileReads {
  return coalescedReads({ send: (ids) => readProfiles(database, ids), keyOf: (id) => id, rowKey: (row) => row.customer_id });
}

/** A coalescing reader of profiles with their counters over `database`; see `sharedProfileWithCountsReads`. */
export function coalescedProfileWithCountsReads(database: Pick<Database, 'prepared'>): ProfileWithCountsReads {
  const identity = (id: string, since: string) => `${id}\u0000${since}`;
  return coalescedReads({
    send: (keys) => readProfilesWithCounts(database, keys),
    keyOf: (key) => identity(key.id, key.since),
    rowKey: (row) => identity(row.id, row.since),
  });
}

/**
 * Reads of a few keys asked for in the same turn go out together, in statements of at most
 * 128 distinct keys (a read is never split across statements); a larger read goes out alone
 * at once. Each caller gets the rows of its own keys only (in the statement's order when it
 * was the statement's only reader, else in the order of its keys), and a failed statement
 * fails every read it carried.
 */
export function coalescedReads<K, R>(statement: ReadStatement<K, R>): CoalescedReads<K, R> {
  const { keyOf, rowKey } = statement;
  let waiting: Waiting<K, R>[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    let start = 0;
    while (start < batch.length) {
      const keys = new Map<string, K>();
      let end = start;
      do {
        for (const key of (batch[end] as Waiting<K, R>).keys) keys.set(keyOf(key), key);
        end += 1;
      } while (end < batch.length && keys.size + (batch[end] as Waiting<K, R>).keys.length <= MAX_KEYS_PER_STATEMENT);
      send(batch.slice(start, end), [...keys.values()]);
      start = end;
    }
  };

  const send = (readers: readonly Waiting<K, R>[], keys: readonly K[]) => {
    statement.send(keys).then(
      (rows) => {
        if (readers.length === 1) return (readers[0] as Waiting<K, R>).resolve(rows);
        const byKey = new Map(rows.map((row) => [rowKey(row), row]));
        for (const reader of readers) {
          const own: R[] = [];
          for (const key of reader.keys) {
            const row = byKey.get(keyOf(key));
            if (row) own.push(row);
          }
          reader.resolve(own);
        }
      },
      (error: unknown) => {
        for (const reader of readers) reader.reject(error);
      },
    );
  };

  return {
    read(keys) {
      if (keys.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        if (keys.length > COALESCED_READ_MAX_KEYS) return send([{ keys, resolve, reject }], [...new Map(keys.map((key) => [keyOf(key), key])).values()]);
        waiting.push({ keys, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
