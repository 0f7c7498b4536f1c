import { sql } from 'kysely';
import type { Database } from './database.ts';
import { migrationsAreCurrent } from './migrate.ts';

export interface Readiness {
  readonly reachable: boolean;
  readonly migrationsCurrent: boolean;
}

/** How long an embedded database may take to answer a probe before it is reported busy (and up). */
const PGLITE_BUSY_MS = 1_000;

const inFlight = new WeakMap<Database, Promise<Readiness>>();
const lastMigrated = new WeakMap<Database, boolean>();

/**
 * Whether the database answers a query and every migration has been applied: the database
 * only, never the load. On PostgreSQL the probe has a connection of its own (`database.probe`,
 * 3 s connect and statement timeouts), so busy pools do not make it fail; on PGlite, whose one
 * connection may be running a long query, a probe that has not answered within a second
 * reports the database up (an in-process engine that is busy is not down) with the last
 * migration state seen; the first probe waits for its answer. Concurrent checks share one probe.
 */
export function checkDatabase(database: Database): Promise<Readiness> {
  let check = inFlight.get(database);
  if (!check) {
    check = probe(database).finally(() => inFlight.delete(database));
    inFlight.set(database, check);
  }
  return check;
}

async function probe(database: Database): Promise<Readiness> {
  const answer = query(database);
  // Busy is reported only once an answer has been seen: until then the migration state is
  // unknown, and a guess would turn a server under load (or start-up) not ready, or ready too early.
  if (database.engine !== 'pglite' || !lastMigrated.has(database)) return answer;
  let timer: NodeJS.Timeout | undefined;
  const busy = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ reachable: true, migrationsCurrent: lastMigrated.get(database) ?? false }), PGLITE_BUSY_MS);
  });
  try {
    return await Promise.race([answer, busy]);
  } finally {
    clearTimeout(timer);
  }
}

async function query(database: Database): Promise<Readiness> {
  try {
    await sql`select 1`.execute(database.probe);
  } catch {
    return { reachable: false, migrationsCurrent: false };
  }
  try {
    const current = await migrationsAreCurrent(database.probe);
    lastMigrated.set(database, current);
    return { reachable: true, migrationsCurrent: current };
  } catch {
    return { reachable: true, migrationsCurrent: false };
  }
}
