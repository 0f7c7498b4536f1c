import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Data-modifying CTEs (`, rollup_rows AS (...), rollup_marks AS (...), rollup_outside AS
 * (...)`) that mark the rollup partitions rows of `rowsCte` change as stale, in the
 * statement that writes them: a partition reading `source` whose periods (widened by the
 * rollup's look-back, for conversion windows) meet the rows' times gets a new version; a row
 * outside every partition marks the rollup's state (its partitions must grow). Partition rows are locked in key
 * order, so concurrent batches wait for each other instead of deadlocking. The refresh
 * reads a version before it computes, so a change committed later is never lost. A rollup
 * whose later periods an earlier row changes (`reaches_later`: a first-ever conversion) has
 * every partition after the rows marked too. When a per-customer table (`rollups.subject_stores`)
 * reads `source`, each customer of the rows (`subjectColumn`; null for anonymous rows) is
 * recorded in `rollups.touches` with its rows' first and last time, so the refresh
 * recomputes those customers only.
 */
export function rollupMarksCtes(rowsCte: string, source: string, timeColumn: string, subjectColumn?: string): RawBuilder<unknown> {
  // The rows' first and last times: partitions between them are marked too (a batch spanning
  // periods is rare; marking more than needed only costs a recomputation).
  const lo = sql`(rollup_rows.lo AT TIME ZONE s.time_zone)`;
  const hi = sql`(rollup_rows.hi AT TIME ZONE s.time_zone)`;
  return sql`,
    rollup_rows AS (SELECT MIN(${sql.ref(`${rowsCte}.${timeColumn}`)}) AS lo, MAX(${sql.ref(`${rowsCte}.${timeColumn}`)}) AS hi FROM ${sql.id(rowsCte)}),
    rollup_marks AS (
      UPDATE rollups.partitions p SET version = p.version + 1
      FROM (SELECT p2.rollup, p2.period_start FROM rollups.partitions p2 JOIN rollups.state s ON s.rollup = p2.rollup, rollup_rows
            WHERE ${source} = ANY (s.sources) AND (s.reaches_later OR p2.period_start <= ${hi}) AND ${lo} < p2.period_end + s.lookback
            ORDER BY 1, 2 FOR UPDATE OF p2) AS t
      WHERE p.rollup = t.rollup AND p.period_start = t.period_start),${
        subjectColumn
          ? sql`
    rollup_touches AS (
      INSERT INTO rollups.touches (source, subject_key, lo, hi)
      SELECT ${source}, CAST(${sql.ref(`${rowsCte}.${subjectColumn}`)} AS text), MIN(${sql.ref(`${rowsCte}.${timeColumn}`)}), MAX(${sql.ref(`${rowsCte}.${timeColumn}`)})
      FROM ${sql.id(rowsCte)} WHERE EXISTS (SELECT 1 FROM rollups.subject_stores ss WHERE ${source} = ANY (ss.sources))
      GROUP BY 2),`
          : sql``
      }
    rollup_outside AS (
      UPDATE rollups.state s SET version = s.version + 1 FROM rollup_rows
      WHERE ${source} = ANY (s.sources) AND rollup_rows.lo IS NOT NULL
        AND (s.covered_from IS NULL OR ${lo} < s.covered_from OR ${hi} >= s.covered_to))`;
}

/**
 * Marks stale every partition of rollups reading `source` whose periods meet `[from, to]`
 * (seeding, bulk loads, deletions and corrections written outside ingestion). With
 * `customers` (the subject's keys whose rows changed; null for rows without one) only those
 * customers are recomputed in the per-customer tables; without, everyone is. Call it in the
 * transaction that changes the rows, or after it commits (never before).
 */
export async function markRollupsStale(db: Kysely<any>, source: string, from: Date, to: Date, customers?: readonly (string | null)[]): Promise<void> {
  const lo = sql`(CAST(${from.toISOString()} AS timestamptz) AT TIME ZONE s.time_zone)`;
  const hi = sql`(CAST(${to.toISOString()} AS timestamptz) AT TIME ZONE s.time_zone)`;
  const stores = sql`EXISTS (SELECT 1 FROM rollups.subject_stores ss WHERE ${source} = ANY (ss.sources))`;
  if (customers)
    await sql`INSERT INTO rollups.touches (source, subject_key, lo, hi)
      SELECT ${source}, k, CAST(${from.toISOString()} AS timestamptz), CAST(${to.toISOString()} AS timestamptz)
      FROM (SELECT DISTINCT k FROM unnest(CAST(${customers as (string | null)[]} AS text[])) AS u (k)) AS keys WHERE ${stores}`.execute(db);
  else
    await sql`INSERT INTO rollups.touches (source, everyone, lo, hi)
      SELECT ${source}, true, CAST(${from.toISOString()} AS timestamptz), CAST(${to.toISOString()} AS timestamptz) WHERE ${stores}`.execute(db);
  await sql`UPDATE rollups.partitions p SET version = p.version + 1 FROM rollups.state s
    WHERE s.rollup = p.rollup AND ${source} = ANY (s.sources) AND (s.reaches_later OR p.period_start <= ${hi}) AND ${lo} < p.period_end + s.lookback`.execute(
    db,
  );
  await sql`UPDATE rollups.state s SET version = s.version + 1
    WHERE ${source} = ANY (s.sources) AND (s.covered_from IS NULL OR ${lo} < s.covered_from OR ${hi} >= s.covered_to)`.execute(db);
}

/** Marks every rollup stale: after a reseed, or (`tagsOnly`) a new tag snapshot for rollups sliced by tags. */
export async function markAllRollupsStale(db: Kysely<any>, options: { tagsOnly?: boolean } = {}): Promise<void> {
  // Everyone is recomputed (of the per-customer tables reading tags, for a tag snapshot).
  await sql`INSERT INTO rollups.touches (everyone, tags_only) SELECT true, ${options.tagsOnly === true}
    WHERE EXISTS (SELECT 1 FROM rollups.subject_stores ss ${options.tagsOnly ? sql`WHERE ss.reads_tags` : sql``})`.execute(db);
  const which = options.tagsOnly ? sql`WHERE s.reads_tags` : sql``;
  await sql`UPDATE rollups.partitions p SET version = p.version + 1 FROM rollups.state s ${options.tagsOnly ? sql`WHERE s.rollup = p.rollup AND s.reads_tags` : sql`WHERE s.rollup = p.rollup`}`.execute(
    db,
  );
  await sql`UPDATE rollups.state s SET version = s.version + 1 ${which}`.execute(db);
}

/**
 * Whether touch `t` (a row of `rollups.touches`) can change the period `[start, end)` of a
 * per-customer table `ss` (a row of `rollups.subject_stores`): it reads the touched table
 * (or the touch is everyone's), and its times meet the period widened by the look-back, or
 * precede it when an earlier row reaches later periods.
 */
export function touchMeets(start: RawBuilder<unknown>, end: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(t.source IS NULL OR t.source = ANY (ss.sources)) AND (NOT t.tags_only OR ss.reads_tags)
    AND (t.lo IS NULL OR ((ss.reaches_later OR ${start} <= (t.hi AT TIME ZONE ss.time_zone)) AND (t.lo AT TIME ZONE ss.time_zone) < ${end} + ss.lookback))`;
}
