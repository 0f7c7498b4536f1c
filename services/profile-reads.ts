import type { Database } from '../store/database.ts';
import { readProfiles, type ProfileRow } from './snapshot.ts';

/** Most ids in one coalesced statement (the per-request limit of `customers(ids)` too). */
const MAX_IDS_PER_STATEMENT = 1000;

type Reader = Pick<Database, 'preparedRead'>;

/** Reads of profile rows that requests asked for in the same turn of the event loop, answered by one statement. */
export interface ProfileReads {
  /** The rows of the current snapshot for `ids` (unknown ids have none), read together with the other reads asked for in this turn. */
  read(ids: readonly string[]): Promise<ProfileRow[]>;
}

interface Waiting {
  readonly ids: readonly string[];
  readonly resolve: (rows: ProfileRow[]) => void;
  readonly reject: (error: unknown) => void;
}

const shared = new WeakMap<Reader, ProfileReads>();

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
export function sharedProfileReads(database: Reader): ProfileReads {
  let reads = shared.get(database);
  if (!reads) shared.set(database, (reads = coalescedProfileReads(database)));
  return reads;
}

/** A coalescing reader over `database`; see `sharedProfileReads`. */
export function coalescedProfileReads(database: Reader): ProfileReads {
  let waiting: Waiting[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    // Batches up to the statement limit; a read is never split across statements.
    let start = 0;
    while (start < batch.length) {
      const ids = new Set<string>();
      let end = start;
      do {
        for (const id of (batch[end] as Waiting).ids) ids.add(id);
        end += 1;
      } while (end < batch.length && ids.size + (batch[end] as Waiting).ids.length <= MAX_IDS_PER_STATEMENT);
      send(batch.slice(start, end), [...ids]);
      start = end;
    }
  };

  const send = (readers: readonly Waiting[], ids: readonly string[]) => {
    readProfiles(database, ids).then(
      (rows) => {
        if (readers.length === 1) return (readers[0] as Waiting).resolve(rows);
        const byId = new Map(rows.map((row) => [row.customer_id, row]));
        for (const reader of readers) {
          const own: ProfileRow[] = [];
          for (const id of reader.ids) {
            const row = byId.get(id);
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
    read(ids) {
      if (ids.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        waiting.push({ ids, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
