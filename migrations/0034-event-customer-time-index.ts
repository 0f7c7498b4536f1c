import { sql, type Kysely } from 'kysely';

/**
 * Events by name, then customer and time: one kind of event read in (customer, time) order
 * from the index alone (an index-only scan, no sort). A conversion whose conversion events are
 * its base events (the 7-day revisit rate: app_open after app_open) finds each customer's
 * first event of every period and tests it for a repeat within the window in one ordered
 * pass over the range's events (`modeling/sql/conversion-node.ts`, repeat events), where it
 * read each month's app_opens once as anchors and again as conversions, and hashed both.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX app_events_name_customer_time_idx ON wealth.app_events (event_name, customer_id, occurred_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS wealth.app_events_name_customer_time_idx`.execute(db);
}
