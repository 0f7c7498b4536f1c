import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';

export interface Snapshot {
  readonly runId: number;
  readonly asOf: string;
}

/** The current published profile snapshot, if a materialization has run. */
export async function currentSnapshot(db: Kysely<DatabaseSchema>): Promise<Snapshot | undefined> {
  const row = await db.selectFrom('strata.profile_snapshot').select(['run_id', 'as_of']).where('id', '=', 1).executeTakeFirst();
  return row?.run_id != null && row.as_of ? { runId: row.run_id, asOf: row.as_of } : undefined;
}

/** Profile rows of the current snapshot for some customers, in one statement (consistent under MVCC). */
export async function readProfiles(db: Kysely<DatabaseSchema>, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const { rows } = await sql<{ customer_id: string; tags: Record<string, unknown>; audiences: string[] }>`
    SELECT p.customer_id, p.tags, p.audiences FROM strata.customer_profiles p
    WHERE p.run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1) AND p.customer_id IN (${sql.join(ids)})`.execute(db);
  return rows;
}
