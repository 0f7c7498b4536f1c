import { sql, type Kysely } from 'kysely';

/**
 * A second index on `placement_impression` events, by experiment key and time (partial, so
 * other events pay nothing for it), beside the one by experiment key and customer (0013):
 * experiment results find an experiment's first and last exposure from the two ends of
 * this one instead of visiting every exposure (about 5 s at 1,000,000 exposed customers);
 * the other still hands the exposures over in customer order, so deduplicating them by
 * customer needs neither a sort nor a hash of every exposed customer. Its predicate names
 * `occurred_at IS NOT NULL` (always true) so that only the span query, which says so, can use
 * it: offered to the exposure scan, the planner took it and hashed a million customers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX app_events_experiment_time_idx ON wealth.app_events ((properties ->> 'experiment'), occurred_at)
    WHERE event_name = 'placement_impression' AND occurred_at IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_time_idx`.execute(db);
}
