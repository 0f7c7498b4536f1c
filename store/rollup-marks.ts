import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Data-modifying CTEs (`, rollup_rows AS (...), rollup_marks AS (...), rollup_outside AS
 * (...)`) that mark the rollup partitions rows of `rowsCte` change as stale, in the
 * statement that writes them: a partition reading `source` whose periods (widened by the
 * rollup's look-back, for conversion windows) meet the rows' times gets a new version; a row
 * outside every partition marks the rollup's state (its partitions must grow). Partition rows are locked in key
 * order, so concurrent batches wait for each other instead of deadlocking. The refresh
 * reads a version before it computes, so a change committed later is never lost.
 */
export function rollupMarksCtes(rowsCte: string, source: string, timeColumn: string): RawBuilder<unknown> {
  // The rows' first and last times: partitions between them are marked too (a batch spanning
  // periods is rare; marking more than needed only costs a recomputation).
  const lo = sql`(rollup_rows.lo AT TIME ZONE s.time_zone)`;
  const hi = sql`(rollup_rows.hi AT TIME ZONE s.time_zone)`;
  return sql`,
    rollup_rows AS (SELECT MIN(${sql.ref(`${rowsCte}.${timeColumn}`)}) AS lo, MAX(${sql.ref(`${rowsCte}.${timeColumn}`)}) AS hi FROM ${sql.id(rowsCte)}),
    rollup_marks AS (
      UPDATE rollups.partitions p SET version = p.version + 1
      FROM (SELECT p2.rollup, p2.period_start FROM rollups.partitions p2 JOIN rollups.state s ON s.rollup = p2.rollup, rollup_rows
            WHERE ${source} = ANY (s.sources) AND p2.period_start <= ${hi} AND ${lo} < p2.period_end + s.lookback
            ORDER BY 1, 2 FOR UPDATE OF p2) AS t
      WHERE p.rollup = t.rollup AND p.period_start = t.period_start),
    rollup_outside AS (
      UPDATE rollups.state s SET version = s.version + 1 FROM rollup_rows
      WHERE ${source} = ANY (s.sources) AND rollup_rows.lo IS NOT NULL
        AND (s.covered_from IS NULL OR ${lo} < s.covered_from OR ${hi} >= s.covered_to))`;
}

/** Marks stale every partition of rollups reading `source` whose periods meet `[from, to]` (seeding, bulk loads). */
export async function markRollupsStale(db: Kysely<any>, source: string, from: Date, to: Date): Promise<void> {
  const lo = sql`(CAST(${from.toISOString()} AS timestamptz) AT TIME ZONE s.time_zone)`;
  const hi = sql`(CAST(${to.toISOString()} AS timestamptz) AT TIME ZONE s.time_zone)`;
  await sql`UPDATE rollups.partitions p SET version = p.version + 1 FROM rollups.state s
    WHERE s.rollup = p.rollup AND ${source} = ANY (s.sources) AND p.period_start <= ${hi} AND ${lo} < p.period_end + s.lookback`.execute(db);
  await sql`UPDATE rollups.state s SET version = s.version + 1
    WHERE ${source} = ANY (s.sources) AND (s.covered_from IS NULL OR ${lo} < s.covered_from OR ${hi} >= s.covered_to)`.execute(db);
}

/** Marks every rollup stale: after a reseed, or (`tagsOnly`) a new tag snapshot for rollups sliced by tags. */
export async function markAllRollupsStale(db: Kysely<any>, options: { tagsOnly?: boolean } = {}): Promise<void> {
  const which = options.tagsOnly ? sql`WHERE s.reads_tags` : sql``;
  await sql`UPDATE rollups.partitions p SET version = p.version + 1 FROM rollups.state s ${options.tagsOnly ? sql`WHERE s.rollup = p.rollup AND s.reads_tags` : sql`WHERE s.rollup = p.rollup`}`.execute(
    db,
  );
  await sql`UPDATE rollups.state s SET version = s.version + 1 ${which}`.execute(db);
}
