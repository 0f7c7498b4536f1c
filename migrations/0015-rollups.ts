import { sql, type Kysely } from 'kysely';

/**
 * Rollups: the schema `rollups` holds each declared rollup's table (created by the refresh
 * worker from the definitions, declaratively partitioned by its partition grain) and the
 * bookkeeping the compiler's answers and the worker share:
 * - `rollups.state`: one row per rollup as built: the definition it was built from (a hash:
 *   a changed definition is answered raw until rebuilt), the tables it reads (ingestion marks
 *   only those), its reporting time zone, how far back a new row can change a period
 *   (conversion windows), whether a tag snapshot feeds it, and the periods its partitions
 *   cover; `version` > `refreshed_version` when rows arrived outside them.
 * - `rollups.partitions`: one row per partition: `version` grows with every change marked
 *   in its periods, `refreshed_version` is the version its stored rows were computed at.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS rollups`.execute(db);
  await sql`CREATE TABLE rollups.state (
    rollup text PRIMARY KEY,
    definition_hash text NOT NULL,
    table_name text NOT NULL,
    sources text[] NOT NULL,
    time_zone text NOT NULL,
    lookback interval NOT NULL,
    reads_tags boolean NOT NULL,
    covered_from date,
    covered_to date,
    version bigint NOT NULL DEFAULT 1,
    refreshed_version bigint NOT NULL DEFAULT 0,
    built_at timestamptz NOT NULL DEFAULT now())`.execute(db);
  await sql`CREATE TABLE rollups.partitions (
    rollup text NOT NULL REFERENCES rollups.state (rollup) ON DELETE CASCADE,
    period_start date NOT NULL,
    period_end date NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    refreshed_version bigint NOT NULL DEFAULT 0,
    refreshed_at timestamptz,
    PRIMARY KEY (rollup, period_start),
    CHECK (period_start < period_end))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP SCHEMA IF EXISTS rollups CASCADE`.execute(db);
}
