import { sql, type Kysely } from 'kysely';

/**
 * Who read which customers' personal data (profiles, audience members), when and through
 * which operation: one row per batch of reads, appended in the background by each server.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const strata = db.withSchema('strata');
  await strata.schema
    .createTable('personal_data_reads')
    .addColumn('read_id', 'bigserial', (c) => c.primaryKey())
    .addColumn('read_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('customer_ids', sql`text[]`, (c) => c.notNull())
    .execute();
  await strata.schema.createIndex('personal_data_reads_at_idx').on('personal_data_reads').columns(['read_at']).execute();
  await sql`CREATE INDEX personal_data_reads_customers_idx ON strata.personal_data_reads USING gin (customer_ids)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('strata').dropTable('personal_data_reads').ifExists().execute();
}
