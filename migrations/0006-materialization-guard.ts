import { sql, type Kysely } from 'kysely';

/**
 * The materialization guard: a run records how far each tag's value distribution moved
 * from the published snapshot (`drift`), why it was held (`message`), and who published
 * it when (`published_at`, `published_by`). Run statuses become `published`, `held`,
 * `superseded` (held, then overtaken by a newer run), `running` and `failed`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('strata')
    .alterTable('tag_runs')
    .addColumn('drift', 'jsonb')
    .addColumn('message', 'text')
    .addColumn('published_at', 'timestamptz')
    .addColumn('published_by', 'text')
    .execute();
  await sql`UPDATE strata.tag_runs SET status = 'published', published_at = finished_at, published_by = actor WHERE status = 'succeeded'`.execute(db);
  await sql`CREATE INDEX tag_runs_status_idx ON strata.tag_runs (status, run_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS strata.tag_runs_status_idx`.execute(db);
  // Rows of held runs were never published: a reader of the old schema must not see them.
  await sql`DELETE FROM strata.customer_profiles p USING strata.tag_runs r WHERE r.run_id = p.run_id AND r.status IN ('held', 'superseded')`.execute(db);
  await sql`UPDATE strata.tag_runs SET status = CASE WHEN status IN ('held', 'superseded') THEN 'failed' ELSE 'succeeded' END WHERE status IN ('published', 'held', 'superseded')`.execute(
    db,
  );
  await db.schema
    .withSchema('strata')
    .alterTable('tag_runs')
    .dropColumn('drift')
    .dropColumn('message')
    .dropColumn('published_at')
    .dropColumn('published_by')
    .execute();
}
