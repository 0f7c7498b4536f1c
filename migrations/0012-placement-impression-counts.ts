import type { Kysely } from 'kysely';

/**
 * Fatigue counters of the decision layer: impressions per customer, placement, content and
 * calendar day of the reporting time zone. The statement that logs an exposure in
 * `wealth.app_events` adds to its row in the same statement, only when the event was newly
 * inserted, so counters and exposures never disagree and a decision reads its customer's
 * counters with one index probe instead of scanning events.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('strata')
    .schema.createTable('placement_impression_counts')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('placement_id', 'text', (c) => c.notNull())
    .addColumn('content_id', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('impressions', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('placement_impression_counts_pk', ['customer_id', 'day', 'placement_id', 'content_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.withSchema('strata').dropTable('placement_impression_counts').ifExists().execute();
}
