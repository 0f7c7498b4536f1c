import { sql, type RawBuilder } from 'kysely';
import { binsOf } from '../modeling/insight/bins.ts';
import type { InsightFeature } from './insight-features.ts';

/** The nine decile fractions, as `percentile_disc` takes them (float8, so the row numbers agree). */
const DECILES = sql`ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]::float8[]`;

export interface CubeSpec {
  /** `WITH ..., base AS (...)` (insightRelation), numeric features without bins as raw numbers. */
  readonly relation: RawBuilder<unknown>;
  readonly features: readonly InsightFeature[];
  /** The rows of `base` counted, and those the deciles are taken over. */
  readonly where: RawBuilder<unknown>;
  /** A leading key grouped with every set (the tree's frontier node, as `node`), if any. */
  readonly node?: RawBuilder<unknown>;
  /** Counts per group, by column name: each an aggregate over `base` rows (`COUNT(*) FILTER (WHERE t)`). */
  readonly counts: Readonly<Record<string, RawBuilder<unknown>>>;
}

/**
 * One grouped statement over `base`: first one row per distinct combination of the feature
 * values (and `node`) with its counts (one hash over the customers, which PostgreSQL runs in
 * parallel: a few tens of thousands of groups at 1,000,000 customers, one per customer with a
 * value at most for a continuous number such as an amount), then GROUPING SETS over those
 * rows: one set per feature (with `node`) and the totals (`node` alone, or `()`), the counts
 * summed. Numeric features without bins get their deciles over the counted rows from their
 * histogram (the combinations' row counts per value, sorted once: the values
 * `percentile_disc` returns, same row numbers in float8), and their column is the bin index,
 * the number of distinct edges at or below the value (`width_bucket`); `e<i>` carries the
 * edges on every row, for `cubeFeatures` and `cubeValue`. Columns: `grouping` (GROUPING of
 * the feature columns), `node`, `f<i>`, `e<i>`, the counts.
 */
export function cubeSql(spec: CubeSpec): RawBuilder<Record<string, unknown>> {
  const { features } = spec;
  const decile = features.flatMap((f, i) => (f.type === 'number' && !f.bins ? [i] : []));
  const names = Object.keys(spec.counts);
  const column = (i: number) => sql.ref(`f${i}`);
  const node = spec.node ? [sql`${spec.node} AS node`] : [];
  const nodeKey = spec.node ? [sql.ref('node')] : [];
  const combos = sql`combos AS (
    SELECT ${sql.join([...node, ...features.map((_, i) => column(i)), sql`COUNT(*) AS rows_n`, ...names.map((n) => sql`${spec.counts[n]} AS ${sql.id(n)}`)])}
    FROM base WHERE ${spec.where} GROUP BY ${sql.join([...nodeKey, ...features.map((_, i) => column(i))])}
  )`;
  // Decile k's edge is the first value whose running count reaches ceil(p_k x total) (at least
  // 1): each histogram row is the edge of the thresholds above its previous running count and
  // at or below its own (`width_bucket` counts the thresholds at or below a count). The
  // histogram sums the combinations per value before its sort: a number with few values (a
  // city tier: 4 in 158,734 combinations at 1M) sorts 4 rows, not every combination.
  const edges = decile.map((i) => {
    const h = sql.id(`h${i}`);
    const q = sql.id(`q${i}`);
    // The thresholds once per feature (a materialized one-row CTE: inlined, each reference to
    // them re-summed the histogram, four scans of it), then one scan of the histogram, in which
    // only the at most 9 values that reach a threshold call generate_series (an amount has
    // 144,053 values at 1M, whose calls took about 0.1 s).
    return sql`${h} AS (
      SELECT v, c, SUM(c) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
      FROM (SELECT ${column(i)} AS v, SUM(rows_n) AS c FROM combos WHERE ${column(i)} IS NOT NULL GROUP BY ${column(i)}) h
    ),
    ${q} AS MATERIALIZED (
      SELECT ARRAY(SELECT GREATEST(ceil(u.p * CAST(t.total AS float8)), 1) FROM unnest(${DECILES}) AS u(p)) AS t FROM (SELECT SUM(c) AS total FROM ${h}) t
    ),
    ${sql.id(`e${i}`)} AS (
      SELECT edges, ARRAY(SELECT DISTINCT x FROM unnest(edges) AS x ORDER BY x) AS cuts FROM (
        SELECT array_agg(w.v ORDER BY w.k) AS edges FROM (
          SELECT h.v, k FROM ${h} AS h CROSS JOIN ${q} AS q
            CROSS JOIN LATERAL generate_series(width_bucket(CAST(h.cum - h.c AS float8), q.t) + 1, width_bucket(CAST(h.cum AS float8), q.t)) AS k
          WHERE width_bucket(CAST(h.cum - h.c AS float8), q.t) < width_bucket(CAST(h.cum AS float8), q.t)
        ) w
      ) a
    )`;
  });
  const binned = features.map((_, i) =>
    decile.includes(i) ? sql`width_bucket(${column(i)}, (SELECT cuts FROM ${sql.id(`e${i}`)})) AS ${column(i)}` : column(i),
  );
  const sets = [...features.map((_, i) => sql`(${sql.join([...nodeKey, column(i)])})`), sql`(${sql.join(nodeKey)})`];
  const edgeColumns = decile.map((i) => sql`(SELECT CAST(edges AS text[]) FROM ${sql.id(`e${i}`)}) AS ${sql.id(`e${i}`)}`);
  return sql<Record<string, unknown>>`${spec.relation}, ${sql.join([combos, ...edges])}
    SELECT ${sql.join([
      sql`GROUPING(${sql.join(features.map((_, i) => column(i)))}) AS grouping`,
      ...nodeKey,
      ...features.map((_, i) => column(i)),
      ...edgeColumns,
      ...names.map((n) => sql`SUM(${sql.ref(n)}) AS ${sql.id(n)}`),
    ])}
    FROM (SELECT ${sql.join([...nodeKey, ...binned, ...names.map((n) => sql.ref(n))])} FROM combos) AS c
    GROUP BY GROUPING SETS (${sql.join(sets)})`;
}

/** The features with the bins their deciles gave (from any row of a cube statement); the others as they are. */
export function cubeFeatures(features: readonly InsightFeature[], rows: readonly Record<string, unknown>[]): InsightFeature[] {
  const row = rows[0] ?? {};
  return features.map((f, i) =>
    f.type === 'number' && !f.bins ? { ...f, bins: binsOf(((row[`e${i}`] as (string | null)[] | null) ?? []).filter((e) => e !== null)) } : f,
  );
}

/** The value of feature `i` in a cube row: its text, or for a feature binned by the statement its bin label (null stays null). */
export function cubeValue(original: readonly InsightFeature[], binned: readonly InsightFeature[], row: Record<string, unknown>, i: number): string | null {
  const value = row[`f${i}`];
  if (value === null || value === undefined) return null;
  const f = original[i];
  if (f?.type === 'number' && !f.bins) return binned[i]?.bins?.[Number(value)]?.label ?? null;
  return value as string;
}

/** Which feature a row of GROUPING SETS counts (the one column not aggregated away), or -1 for the totals. */
export function groupedFeature(featureCount: number, grouping: number): number {
  for (let i = 0; i < featureCount; i++) if ((grouping & (1 << (featureCount - 1 - i))) === 0) return i;
  return -1;
}
