import { sql, type Kysely } from 'kysely';

/**
 * Materialized tag snapshots: one run per materialization, one profile row per customer and
 * run (tag values and audience memberships), and a pointer to the current run that a
 * refresh flips atomically. Also the API keys that identify actors.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const strata = db.withSchema('strata');
  await strata.schema
    .createTable('tag_runs')
    .addColumn('run_id', 'serial', (c) => c.primaryKey())
    .addColumn('as_of', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('customers', 'integer')
    .addColumn('coverage', 'jsonb')
    .addColumn('error', 'text')
    .execute();

  await strata.schema
    .createTable('customer_profiles')
    .addColumn('run_id', 'integer', (c) => c.notNull())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('tags', 'jsonb', (c) => c.notNull())
    .addColumn('audiences', sql`text[]`, (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_profiles_pk', ['run_id', 'customer_id'])
    .execute();

  await strata.schema
    .createTable('profile_snapshot')
    .addColumn('id', 'smallint', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('run_id', 'integer')
    .addColumn('as_of', 'date')
    .addColumn('published_at', 'timestamptz')
    .execute();
  await sql`INSERT INTO strata.profile_snapshot (id) VALUES (1)`.execute(db);

  await strata.schema
    .createTable('api_keys')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const strata = db.withSchema('strata');
  for (const table of ['api_keys', 'profile_snapshot', 'customer_profiles', 'tag_runs']) await strata.schema.dropTable(table).execute();
}
