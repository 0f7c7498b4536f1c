import { sql, type RawBuilder } from 'kysely';

/** One bin of a numeric feature: `[lo, hi)`, open-ended where a bound is null. Bounds are decimal text, as bound in SQL and written in rules. */
export interface Bin {
  readonly label: string;
  readonly lo: string | null;
  readonly hi: string | null;
}

/**
 * The bins cut by sorted edges: below the first edge, between each pair, and from the last
 * edge up (`< 10`, `[10, 20)`, `>= 20`). Duplicate edges are dropped; edges are sorted as numbers.
 *
 * ```ts
 * binsOf(['20', '10']).map((b) => b.label); // ['< 10', '[10, 20)', '>= 20']
 * ```
 */
export function binsOf(edges: readonly string[]): Bin[] {
  const sorted = [...new Map(edges.map((e) => [Number(e), e])).entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
  if (sorted.length === 0) return [{ label: 'all', lo: null, hi: null }];
  const bins: Bin[] = [{ label: `< ${sorted[0]}`, lo: null, hi: sorted[0] as string }];
  for (let i = 0; i + 1 < sorted.length; i++) bins.push({ label: `[${sorted[i]}, ${sorted[i + 1]})`, lo: sorted[i] as string, hi: sorted[i + 1] as string });
  bins.push({ label: `>= ${sorted.at(-1)}`, lo: sorted.at(-1) as string, hi: null });
  return bins;
}

/**
 * The label of the bin `value` (a numeric SQL expression) falls in, null for a null value: the
 * bin's index is the number of upper bounds at or below the value (`width_bucket` over the
 * bounds, sorted by `binsOf`), so `value` is computed once per row. A chain of `value < hi`
 * tests computed it again for every bound, and a tag's value is read out of the profile's JSON
 * each time (10 reads of an amount in the last of 10 bins).
 */
export function binLabelSql(value: RawBuilder<unknown>, bins: readonly Bin[]): RawBuilder<unknown> {
  const bounds = bins.flatMap((b) => (b.hi === null ? [] : [sql`CAST(${b.hi} AS numeric)`]));
  if (bounds.length === 0) return sql`CASE WHEN ${value} IS NULL THEN NULL ELSE CAST(${(bins[0] as Bin).label} AS text) END`;
  const whens = bins.map((b, i) => sql`WHEN ${sql.lit(i)} THEN CAST(${b.label} AS text)`);
  return sql`CASE width_bucket(${value}, ARRAY[${sql.join(bounds)}]) ${sql.join(whens, sql` `)} END`;
}
