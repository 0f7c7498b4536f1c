import { sql, type Kysely } from 'kysely';

/**
 * The index experiment results read exposures through becomes `placement_impression` events
 * by experiment key and time (partial, so other events pay nothing for it), replacing the
 * one by experiment key and customer (0013): results find an experiment's first and last
 * exposure from the two ends of the index instead of visiting every exposure (about 5 s at
 * 1,000,000 exposed customers), and read its exposures from the same index; the dedup by
 * customer is hashed, so the customer order is no longer used.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX app_events_experiment_time_idx ON wealth.app_events ((properties ->> 'experiment'), occurred_at)
    WHERE event_name = 'placement_impression'`.execute(db);
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_exposure_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX app_events_experiment_exposure_idx ON wealth.app_events ((properties ->> 'experiment'), customer_id)
    WHERE event_name = 'placement_impression'`.execute(db);
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_time_idx`.execute(db);
}
