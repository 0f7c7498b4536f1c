import { sql, type Kysely } from 'kysely';

/**
 * `strata.experiment_exposures` kept without locking the rows an exposure does not change.
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE` locks the existing row even when its `WHERE`
 * is false: the row's header is rewritten, its page dirtied and a lock record written to the
 * WAL (a full-page image on the first touch after a checkpoint), and the lock is held until
 * the statement commits. A customer shown the same arm again, most exposures, changes nothing,
 * so 0030's statement trigger now leaves out the groups whose existing row already covers
 * them (first exposure no later, lowest and highest variant no narrower, a variant recorded).
 * A row only ever widens (LEAST/GREATEST), so a row the statement's snapshot finds covering
 * still covers at commit; a row it does not see (inserted concurrently, or absent) goes
 * through the upsert exactly as before. The resulting rows are those of 0030.
 *
 * Idempotent (`CREATE OR REPLACE`): it may be applied by hand before the migration runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION strata.record_experiment_exposures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO strata.experiment_exposures AS x (experiment, customer_id, variant_low, variant_high, first_exposed_at)
  SELECT g.experiment, g.customer_id, g.variant_low, g.variant_high, g.first_exposed_at
  FROM (
    SELECT properties ->> 'experiment' AS experiment, customer_id, MIN(properties ->> 'variant') AS variant_low,
      MAX(properties ->> 'variant') AS variant_high, MIN(occurred_at) AS first_exposed_at
    FROM inserted_events
    WHERE event_name = 'placement_impression' AND customer_id IS NOT NULL AND (properties ->> 'experiment') IS NOT NULL
    GROUP BY 1, 2) AS g
  WHERE NOT EXISTS (
    SELECT 1 FROM strata.experiment_exposures c
    WHERE c.experiment = g.experiment AND c.customer_id = g.customer_id
      AND NOT ((g.first_exposed_at < c.first_exposed_at) IS TRUE OR (g.variant_low < c.variant_low) IS TRUE
        OR (g.variant_high > c.variant_high) IS TRUE OR (c.variant_low IS NULL AND g.variant_low IS NOT NULL)))
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
}

/** 0030's function: the trigger calls it by name, so replacing the function is the whole change. */
export async function down(db: Kysely<unknown>): Promise<void> {
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
}
