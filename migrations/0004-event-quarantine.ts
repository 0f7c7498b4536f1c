import { sql, type Kysely } from 'kysely';

/**
 * Undeclared behaviour events, kept for stewards to review when the server is configured to
 * quarantine them instead of rejecting them. Idempotent on `event_id`, like `wealth.app_events`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema('strata').ifNotExists().execute();
  const strata = db.withSchema('strata');
  await strata.schema
    .createTable('event_quarantine')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('event_name', 'text', (c) => c.notNull())
    .addColumn('raw', 'jsonb', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await strata.schema.createIndex('event_quarantine_name_idx').on('event_quarantine').columns(['event_name', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('strata').dropTable('event_quarantine').ifExists().execute();
}
