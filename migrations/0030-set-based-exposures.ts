import { sql, type Kysely } from 'kysely';

/**
 * `strata.experiment_exposures` (0026) kept by one set-based upsert per statement instead of
 * one PL/pgSQL call and upsert per exposure row: an AFTER INSERT statement trigger on
 * `wealth.app_events` reads the rows the statement inserted (its transition table), groups the
 * experiment exposures by experiment and customer (lowest and highest variant, first
 * exposure) and upserts those groups in key order, so concurrent statements lock rows in the
 * same order. A statement with no experiment exposure (most of ingestion, `decide` for
 * placements without an experiment) upserts nothing. The rows are the same as the row
 * trigger's: LEAST/GREATEST over a statement's rows one by one equal MIN/MAX over them at
 * once, and the upsert keeps 0026's condition (only an earlier exposure or another arm
 * changes a row). Only inserted rows are in the transition table, so a duplicate event id that
 * the statement did not insert adds nothing, as before. Rows moved between partitions (by
 * `ATTACH`, never through the partitioned table) fire nothing, as before.
 *
 * Idempotent (`IF EXISTS`, `CREATE OR REPLACE`): it may be applied by hand before the
 * migration runs. A bulk load that inserts millions of events keeps them in the transition
 * table until its statement ends (the trigger then scans them once).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION strata.record_experiment_exposures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO strata.experiment_exposures AS x (experiment, customer_id, variant_low, variant_high, first_exposed_at)
  SELECT properties ->> 'experiment', customer_id, MIN(properties ->> 'variant'), MAX(properties ->> 'variant'), MIN(occurred_at)
  FROM inserted_events
  WHERE event_name = 'placement_impression' AND customer_id IS NOT NULL AND (properties ->> 'experiment') IS NOT NULL
  GROUP BY 1, 2
  ORDER BY 1, 2
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
  await sql`DROP TRIGGER IF EXISTS app_events_experiment_exposure ON wealth.app_events`.execute(db);
  await sql`DROP TRIGGER IF EXISTS app_events_experiment_exposures ON wealth.app_events`.execute(db);
  await sql`CREATE TRIGGER app_events_experiment_exposures AFTER INSERT ON wealth.app_events
    REFERENCING NEW TABLE AS inserted_events FOR EACH STATEMENT EXECUTE FUNCTION strata.record_experiment_exposures()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS strata.record_experiment_exposure()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION strata.record_experiment_exposure() RETURNS trigger LANGUAGE plpgsql AS $$
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
  await sql`DROP TRIGGER IF EXISTS app_events_experiment_exposures ON wealth.app_events`.execute(db);
  await sql`CREATE TRIGGER app_events_experiment_exposure AFTER INSERT ON wealth.app_events FOR EACH ROW
    WHEN (NEW.event_name = 'placement_impression' AND NEW.customer_id IS NOT NULL AND (NEW.properties ->> 'experiment') IS NOT NULL)
    EXECUTE FUNCTION strata.record_experiment_exposure()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS strata.record_experiment_exposures()`.execute(db);
}
