import type { Kysely } from 'kysely';

/**
 * The history of each customer's assessed risk tolerance (a slowly changing dimension): one
 * row per assessment, in effect from `valid_from` (a Shanghai date) until the day the next
 * one took effect (`valid_to`, null for the assessment in effect now, which is the
 * `customers.risk_level` shown today).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('wealth')
    .schema.createTable('risk_assessments')
    .addColumn('customer_id', 'text', (c) => c.notNull().references('wealth.customers.customer_id'))
    .addColumn('risk_level', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'date', (c) => c.notNull())
    .addColumn('valid_to', 'date')
    .addPrimaryKeyConstraint('risk_assessments_pk', ['customer_id', 'valid_from'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.withSchema('wealth').schema.dropTable('risk_assessments').ifExists().execute();
}
