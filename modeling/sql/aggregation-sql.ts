import { sql, type RawBuilder } from 'kysely';
import type { Measure } from '../catalog/types.ts';

/**
 * The SQL aggregate of a measure over `value` (the measure's expression, or null for `*`),
 * over the rows `filter` passes when one is given (`AGG(...) FILTER (WHERE filter)`).
 */
export function aggregationSql(measure: Measure, value: RawBuilder<unknown> | null, filter?: RawBuilder<unknown>): RawBuilder<unknown> {
  if (measure.aggregation === 'count_distinct' && measure.distinctFloor) return distinctFloorSql(value ?? sql`*`, filter);
  const aggregate = plainAggregationSql(measure, value);
  return filter ? sql`${aggregate} FILTER (WHERE ${filter})` : aggregate;
}

function plainAggregationSql(measure: Measure, value: RawBuilder<unknown> | null): RawBuilder<unknown> {
  const v = value ?? sql`*`;
  switch (measure.aggregation) {
    case 'count':
      return sql`COUNT(${v})`;
    case 'count_distinct':
      return sql`COUNT(DISTINCT ${v})`;
    case 'sum':
      return sql`SUM(${v})`;
    case 'sum_boolean':
      return sql`SUM(CASE WHEN ${v} THEN 1 ELSE 0 END)`;
    case 'avg':
      return sql`AVG(${v})`;
    case 'min':
      return sql`MIN(${v})`;
    case 'max':
      return sql`MAX(${v})`;
    case 'median':
      return sql`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${v})`;
    case 'percentile': {
      const fraction = sql.lit(measure.percentile?.fraction ?? 0.5);
      return measure.percentile?.discrete
        ? sql`percentile_disc(${fraction}) WITHIN GROUP (ORDER BY ${v})`
        : sql`percentile_cont(${fraction}) WITHIN GROUP (ORDER BY ${v})`;
    }
  }
}

/**
 * A lower bound of `COUNT(DISTINCT v)` in one pass, without sorting or hashing the values:
 * each value sets one of 64 bits by its hash, and the bound is the number of bits set (a
 * value is one bucket, so distinct values are at least the buckets). 0 exactly when no value
 * is non-null; at 64 or fewer values often exact, past that at most 64.
 */
function distinctFloorSql(v: RawBuilder<unknown>, filter: RawBuilder<unknown> | undefined): RawBuilder<unknown> {
  const bit = sql`(CAST(1 AS bigint) << (hashtext(CAST(${v} AS text)) & 63))`;
  const buckets = filter ? sql`bit_or(${bit}) FILTER (WHERE ${filter})` : sql`bit_or(${bit})`;
  return sql`COALESCE(bit_count(CAST(${buckets} AS bit(64))), 0)`;
}
