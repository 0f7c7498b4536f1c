import { sql, type RawBuilder } from 'kysely';
import type { Measure } from '../catalog/types.ts';

/** The SQL aggregate of a measure over `value` (the measure's expression, or null for `*`). */
export function aggregationSql(measure: Measure, value: RawBuilder<unknown> | null): RawBuilder<unknown> {
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
