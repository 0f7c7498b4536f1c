import { sql, type Kysely } from 'kysely';

/**
 * One row per experiment and exposed customer (`strata.experiment_exposures`): the lowest and
 * highest variant key the customer was exposed to, `variant` when they are one arm (null when
 * the customer saw several, or none was named: counted apart), and their first exposure. Experiment results read this narrow table (1,000,000 rows at a million
 * exposed customers) instead of finding and deduplicating the `placement_impression` events.
 *
 * A trigger keeps it in the statement that inserts each exposure into `wealth.app_events`,
 * whatever writes it (`decide` and ingestion through store/event-store.ts, bulk loads, tests),
 * so the table and the events cannot disagree: an event that a retried `decisionId` or
 * `eventId` did not insert adds nothing, and a repeated exposure of the same arm leaves the row
 * as it is (the upsert's condition; only an earlier exposure, or another arm, changes it). The
 * row trigger is cloned onto every monthly partition, including those created later; rows
 * moved out of the default partition are not inserted through the partitioned table, so they
 * fire nothing (and their exposures are already counted). Existing exposures are backfilled
 * in the same transaction, after the trigger exists, so none is missed or counted twice.
 *
 * Results find the span of an experiment's first exposures from the two ends of the index by
 * experiment and first exposure. The two partial indexes on `wealth.app_events` that only
 * results read (by experiment and customer, 0013; by experiment and time, 0021) are dropped:
 * every exposure `decide` logged wrote both, where this table writes a row per new customer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE strata.experiment_exposures (
    experiment text NOT NULL,
    customer_id text NOT NULL,
    variant_low text,
    variant_high text,
    first_exposed_at timestamptz NOT NULL,
    variant text GENERATED ALWAYS AS (CASE WHEN variant_low = variant_high THEN variant_low END) STORED,
    CONSTRAINT experiment_exposures_pk PRIMARY KEY (experiment, customer_id)
  )`.execute(db);
  // LEAST and GREATEST skip nulls, as MIN and MAX do over the events.
  await sql`CREATE FUNCTION strata.record_experiment_exposure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO strata.experiment_exposures AS x (experiment, customer_id, variant_low, variant_high, first_exposed_at)
  VALUES (NEW.properties ->> 'experiment', NEW.customer_id, NEW.properties ->> 'variant', NEW.properties ->> 'variant', NEW.occurred_at)
  ON CONFLICT (experiment, customer_id) DO UPDATE SET
    variant_low = LEAST(x.variant_low, excluded.variant_low),
    variant_high = GREATEST(x.variant_high, excluded.variant_high),
    first_exposed_at = LEAST(x.first_exposed_at, excluded.first_exposed_at)
  WHERE excluded.first_exposed_at < x.first_exposed_at
    OR excluded.variant_low < x.variant_low OR excluded.variant_high > x.variant_high
    OR (x.variant_low IS NULL AND excluded.variant_low IS NOT NULL);
  RETURN NULL;
END
$$`.execute(db);
  await sql`CREATE TRIGGER app_events_experiment_exposure AFTER INSERT ON wealth.app_events FOR EACH ROW
    WHEN (NEW.event_name = 'placement_impression' AND NEW.customer_id IS NOT NULL AND (NEW.properties ->> 'experiment') IS NOT NULL)
    EXECUTE FUNCTION strata.record_experiment_exposure()`.execute(db);
  await sql`INSERT INTO strata.experiment_exposures (experiment, customer_id, variant_low, variant_high, first_exposed_at)
    SELECT properties ->> 'experiment', customer_id, MIN(properties ->> 'variant'), MAX(properties ->> 'variant'), MIN(occurred_at)
    FROM wealth.app_events
    WHERE event_name = 'placement_impression' AND customer_id IS NOT NULL AND (properties ->> 'experiment') IS NOT NULL
    GROUP BY 1, 2`.execute(db);
  await sql`CREATE INDEX experiment_exposures_first_idx ON strata.experiment_exposures (experiment, first_exposed_at)`.execute(db);
  await sql`ANALYZE strata.experiment_exposures`.execute(db);
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_exposure_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_time_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS app_events_experiment_exposure_idx ON wealth.app_events ((properties ->> 'experiment'), customer_id)
    WHERE event_name = 'placement_impression'`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS app_events_experiment_time_idx ON wealth.app_events ((properties ->> 'experiment'), occurred_at)
    WHERE event_name = 'placement_impression' AND occurred_at IS NOT NULL`.execute(db);
  await sql`DROP TRIGGER IF EXISTS app_events_experiment_exposure ON wealth.app_events`.execute(db);
  await sql`DROP FUNCTION IF EXISTS strata.record_experiment_exposure()`.execute(db);
  await sql`DROP TABLE IF EXISTS strata.experiment_exposures`.execute(db);
}
