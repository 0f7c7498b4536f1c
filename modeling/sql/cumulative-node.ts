import { sql, type RawBuilder } from 'kysely';
import type { CumulativeMetric, Measure } from '../catalog/types.ts';
import type { ResolvedQuery } from '../query/resolve-query.ts';
import { METRIC_TIME } from '../query/resolve-query.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, whereClause, type NodeScope } from './node-scope.ts';
import { boundFor, extractPart, interval, truncate, type TimeColumn } from './time.ts';

/**
 * A cumulative metric: for every day of a spine, the measure aggregated over the rows of
 * its trailing window (or since the start of its grain, or all time), then rolled up to the
 * requested grain by the metric's period aggregation. Without metric_time, the value as of
 * the last day of the time range (or of the data).
 */
export function cumulativeNodeSql(scope: NodeScope, query: ResolvedQuery, metric: CumulativeMetric, measure: Measure, column: string): RawBuilder<unknown> {
  const others = query.groupBy.map((g, i) => ({ g, i })).filter(({ g }) => g.dimension !== METRIC_TIME);
  const periods = query.groupBy.map((g, i) => ({ g, i })).filter(({ g }) => g.dimension === METRIC_TIME);
  const day = truncate(scope.time, 'DAY');
  const value = measure.sql === '*' ? sql`1` : scope.relation.baseColumn(measure.sql);
  const upper = scope.range.to ? [sql`${scope.time.expr} < ${boundFor(scope.time, scope.range.to)}`] : [];
  const lower = scope.range.from && metric.window
    ? [sql`${scope.time.expr} >= ${boundFor(scope.time, scope.range.from)} - ${interval(metric.window)}`]
    : [];
  const rows = sql`SELECT ${sql.join([...others.map(({ i }) => sql`${scope.groups[i]} AS ${sql.id(`g${i}`)}`), sql`${day} AS d`, sql`${value} AS value`])}
    FROM ${scope.relation.from()} ${whereClause([...upper, ...lower, ...scope.filters])}`;

  const spineFrom = scope.range.from ? sql`CAST(${scope.range.from.slice(0, 10)} AS date)` : sql`(SELECT MIN(d) FROM rows)`;
  const spineTo = scope.range.to ? sql`(CAST(${scope.range.to.slice(0, 10)} AS date) - 1)` : sql`(SELECT MAX(d) FROM rows)`;
  const spine = periods.length > 0
    ? sql`SELECT CAST(day AS date) AS day FROM generate_series(${spineFrom}, ${spineTo}, interval '1 day') AS day`
    : sql`SELECT CAST(${spineTo} AS date) AS day`;

  const window = metric.window
    ? sql`AND r.d > CAST(s.day - ${interval(metric.window)} AS date)`
    : metric.grainToDate
      ? sql`AND r.d >= CAST(date_trunc(${sql.lit(metric.grainToDate.toLowerCase())}, s.day) AS date)`
      : sql``;
  const aggregate = aggregationSql(measure, measure.sql === '*' && measure.aggregation === 'count' ? null : sql.ref('r.value'));
  const daily = sql`SELECT ${sql.join([sql`s.day`, ...others.map(({ i }) => sql.ref(`r.g${i}`)), sql`${aggregate} AS v`])}
    FROM spine AS s JOIN rows AS r ON r.d <= s.day ${window} ${groupByOrdinals(others.length + 1)}`;

  const spineDay: TimeColumn = { expr: sql.ref('daily.day'), storage: 'date', timeZone: 'UTC' };
  const outputGroups = query.groupBy.map((g, i) => {
    if (g.dimension !== METRIC_TIME) return sql`${sql.ref(`daily.g${i}`)} AS ${sql.id(`g${i}`)}`;
    const expr = g.datePart ? extractPart(spineDay, g.datePart) : truncate(spineDay, g.grain ?? 'DAY');
    return sql`${expr} AS ${sql.id(`g${i}`)}`;
  });
  const rollsUp = periods.some(({ g }) => g.datePart !== undefined || (g.grain !== undefined && g.grain !== 'DAY'));
  const rolled = !rollsUp
    ? sql`MAX(daily.v)`
    : metric.periodAgg === 'average'
      ? sql`AVG(daily.v)`
      : metric.periodAgg === 'last'
        ? sql`(array_agg(daily.v ORDER BY daily.day DESC))[1]`
        : sql`(array_agg(daily.v ORDER BY daily.day))[1]`;
  return sql`WITH rows AS (${rows}), spine AS (${spine}), daily AS (${daily})
    SELECT ${sql.join([...outputGroups, sql`${rolled} AS ${sql.id(column)}`])} FROM daily ${groupByOrdinals(query.groupBy.length)}`;
}
