import { sql } from 'kysely';
import type { Database } from './database.ts';
import { migrationsAreCurrent } from './migrate.ts';

export interface Readiness {
  readonly reachable: boolean;
  readonly migrationsCurrent: boolean;
}

/** Whether the database answers a query and every migration has been applied. */
export async function checkDatabase(database: Database): Promise<Readiness> {
  try {
    await sql`select 1`.execute(database.db);
  } catch {
    return { reachable: false, migrationsCurrent: false };
  }
  try {
    return { reachable: true, migrationsCurrent: await migrationsAreCurrent(database.db) };
  } catch {
    return { reachable: true, migrationsCurrent: false };
  }
}
