import { sql, type Kysely } from 'kysely';

/**
 * Incremental refresh of the rollups sliced by customer dimensions (issue 20): a day of events
 * recomputes the month for the customers it touched instead of the whole month.
 * - `rollups.touches`: what a write changed, for the refresh to recompute: one row per
 *   customer of an ingested batch (`subject_key`, null for anonymous events) with the
 *   batch's first and last time of that customer's rows, or one row for everyone (`everyone`:
 *   a bulk load, a reseed, a tag snapshot with `tags_only`), stamped with the writing
 *   transaction (`xid`). A stored per-customer period (below) recomputes exactly the
 *   touches its snapshot did not see; touches every stored period has seen are deleted.
 * - `rollups.subject_stores`: the per-customer tables (`rollups.c_<hash>`, one row per
 *   customer and period: the values of a shared computation before they are collapsed to
 *   the combinations of the dimensions), which rollups each serves, and what the refresh
 *   needs to match touches to its periods (the tables read, time zone, look-back).
 * - `rollups.subject_periods`: each period a per-customer table holds, with the snapshot it
 *   was computed at.
 * - `rollups.state.reaches_later`: an event changes every later period of the rollup (a
 *   first-ever conversion: an earlier base event makes a later one no longer the first), so
 *   ingestion marks them stale too.
 * Idempotent (IF NOT EXISTS), so it can be applied by hand to a database migrated before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rollups.state ADD COLUMN IF NOT EXISTS reaches_later boolean NOT NULL DEFAULT false`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS rollups.touches (
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    source text,
    subject_key text,
    everyone boolean NOT NULL DEFAULT false,
    tags_only boolean NOT NULL DEFAULT false,
    lo timestamptz,
    hi timestamptz)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS touches_time_idx ON rollups.touches (hi)`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS rollups.subject_stores (
    store text PRIMARY KEY,
    definition_hash text NOT NULL,
    members text[] NOT NULL,
    sources text[] NOT NULL,
    time_zone text NOT NULL,
    lookback interval NOT NULL,
    reaches_later boolean NOT NULL,
    reads_tags boolean NOT NULL)`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS rollups.subject_periods (
    store text NOT NULL REFERENCES rollups.subject_stores (store) ON DELETE CASCADE,
    period_start date NOT NULL,
    period_end date NOT NULL,
    snapshot pg_snapshot NOT NULL,
    PRIMARY KEY (store, period_start))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS rollups.subject_periods`.execute(db);
  await sql`DROP TABLE IF EXISTS rollups.subject_stores`.execute(db);
  await sql`DROP TABLE IF EXISTS rollups.touches`.execute(db);
  await sql`ALTER TABLE rollups.state DROP COLUMN IF EXISTS reaches_later`.execute(db);
}
