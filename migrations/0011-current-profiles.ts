import { sql, type Kysely } from 'kysely';

/**
 * The current profile snapshot as one relation: the profile rows (tags and audience
 * memberships) of the run `strata.profile_snapshot` points at, one row per subject. Every
 * reader of "the profiles as served" reads this view, so the pointer is followed in one
 * place. A simple view: PostgreSQL inlines it, so `customer_id = ANY(...)` and the run
 * still use the `(run_id, customer_id)` key of `customer_profiles`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE VIEW strata.current_profiles AS
    SELECT p.customer_id, p.tags, p.audiences FROM strata.customer_profiles p
    WHERE p.run_id = (SELECT s.run_id FROM strata.profile_snapshot s WHERE s.id = 1)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('strata').dropView('current_profiles').ifExists().execute();
}
