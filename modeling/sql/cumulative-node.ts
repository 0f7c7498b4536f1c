import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { CumulativeMetric, Filter, Grain, Measure } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { grainedTime, groupByOrdinals, whereClause, type CustomGrainLookup, type NodeScope } from './node-scope.ts';
import { boundFor, customGrainSpine, extractPart, interval, spineFor, truncate, type TimeColumn } from './time.ts';
import { offsetSource, type TimeOffset } from './time-offset.ts';
import { filterSql } from './filter-sql.ts';

export interface CumulativeInput {
  readonly index: CatalogIndex;
  readonly scope: NodeScope;
  readonly query: PlanQuery;
  readonly metric: CumulativeMetric;
  readonly measure: Measure;
  readonly column: string;
  /** The measure's time grain: one spine row per period of it. */
  readonly grain: Grain;
  /** Filters on metric_time only: they select output periods, not input rows (MetricFlow). */
  readonly periodFilters: readonly Filter[];
  readonly offsets: readonly TimeOffset[];
}

/**
 * A cumulative metric: for every period of the time spine (or of the data's range when the
 * catalog has no spine), the measure aggregated over the rows of its trailing window (or
 * since the start of its grain, or all time), then rolled up to the requested grain by the
 * metric's period aggregation. Without metric_time, the value as of the last period.
 */
export function cumulativeNodeSql(input: CumulativeInput): RawBuilder<unknown> {
  const { scope, query, metric, measure, column } = input;
  const others = query.groupBy.map((g, i) => ({ g, i })).filter(({ i }) => !scope.isPeriod[i]);
  const periods = query.groupBy.map((g, i) => ({ g, i })).filter(({ i }) => scope.isPeriod[i]);
  const spine = spineFor(input.index.catalog, input.grain);
  const subDaily = GRAINS.indexOf(input.grain) < GRAINS.indexOf('DAY');
  const grain: Grain = spine && subDaily ? input.grain : 'DAY';
  const rowPeriod = truncate(scope.time, grain);
  const value = measure.sql === '*' ? sql`1` : scope.relation.baseColumn(measure.sql);
  const upper = scope.range.to ? [sql`${scope.time.expr} < ${boundFor(scope.time, scope.range.to)}`] : [];
  const lowerFrom =
    scope.range.from && metric.window
      ? sql`${boundFor(scope.time, scope.range.from)} - ${interval(metric.window)}`
      : scope.range.from && metric.grainToDate && spine
        ? sql`date_trunc(${sql.lit(metric.grainToDate.toLowerCase())}, ${boundFor(scope.time, scope.range.from)})`
        : undefined;
  const lower = lowerFrom ? [sql`${scope.time.expr} >= ${lowerFrom}`] : [];
  const rows = sql`SELECT ${sql.join([...others.map(({ i }) => sql`${scope.groups[i]} AS ${sql.id(`g${i}`)}`), sql`${rowPeriod} AS d`, sql`${value} AS value`])}
    FROM ${scope.relation.from()} ${whereClause([...upper, ...lower, ...scope.filters])}`;

  const dayType = subDaily ? sql`timestamp` : sql`date`;
  const spineDay: TimeColumn = { expr: sql.ref('daily.day'), storage: subDaily ? 'timestamp' : 'date', timeZone: 'UTC' };
  const spineSql = spine ? spineFromTable(input, spine.table, spine.column, dayType, periods.length > 0) : spineFromData(scope, periods.length > 0);
  const window = metric.window
    ? sql`AND r.d > CAST(s.day - ${interval(metric.window)} AS ${dayType})`
    : metric.grainToDate
      ? sql`AND r.d >= CAST(date_trunc(${sql.lit(metric.grainToDate.toLowerCase())}, s.day) AS ${dayType})`
      : sql``;
  const aggregate = aggregationSql(measure, measure.sql === '*' && measure.aggregation === 'count' ? null : sql.ref('r.value'));
  const daily = sql`SELECT ${sql.join([sql`s.day`, ...others.map(({ i }) => sql.ref(`r.g${i}`)), sql`${aggregate} AS v`])}
    FROM spine AS s JOIN rows AS r ON r.d <= s.day ${window} ${groupByOrdinals(others.length + 1)}`;

  const joins: RawBuilder<unknown>[] = [];
  const lookup: CustomGrainLookup = (spineTable, customColumn, period) => {
    joins.push(
      sql`LEFT JOIN ${sql.table(spineTable.table)} AS ${sql.id(`cg${joins.length}`)} ON CAST(${sql.ref(`cg${joins.length}.${spineTable.column}`)} AS timestamp) = ${period}`,
    );
    return sql.ref(`cg${joins.length - 1}.${customColumn}`);
  };
  const outputGroups = query.groupBy.map((g, i) => {
    if (!scope.isPeriod[i]) return sql`${sql.ref(`daily.g${i}`)} AS ${sql.id(`g${i}`)}`;
    const expr = g.datePart
      ? extractPart(spineDay, g.datePart)
      : (grainedTime(input.index, spineDay, { ...(g.grain ? { grain: g.grain } : {}), ...(g.customGrain ? { custom: g.customGrain } : {}) }, lookup)?.expr ??
        sql.ref('daily.day'));
    return sql`${expr} AS ${sql.id(`g${i}`)}`;
  });
  const rollsUp = periods.some(({ g }) => g.datePart !== undefined || g.customGrain !== undefined || (g.grain !== undefined && g.grain !== grain));
  const rolled = !rollsUp
    ? sql`MAX(daily.v)`
    : metric.periodAgg === 'average'
      ? sql`AVG(daily.v)`
      : metric.periodAgg === 'last'
        ? sql`(array_agg(daily.v ORDER BY daily.day DESC))[1]`
        : sql`(array_agg(daily.v ORDER BY daily.day))[1]`;
  return sql`WITH rows AS MATERIALIZED (${rows}), spine AS MATERIALIZED (${spineSql}), daily AS (${daily})
    SELECT ${sql.join([...outputGroups, sql`${rolled} AS ${sql.id(column)}`])} FROM daily ${sql.join(joins, sql` `)} ${groupByOrdinals(query.groupBy.length)}`;
}

/** Spine periods from the catalog's time spine, inside the query's range, its metric_time filters and its offsets. */
function spineFromTable(input: CumulativeInput, table: string, columnName: string, dayType: RawBuilder<unknown>, grouped: boolean): RawBuilder<unknown> {
  const day = sql`CAST(${sql.ref(`sp.${columnName}`)} AS ${dayType})`;
  const time: TimeColumn = { expr: day, storage: 'timestamp', timeZone: 'UTC' };
  const range = input.scope.range;
  const inRange = (expr: RawBuilder<unknown>) => [
    ...(range.from ? [sql`${expr} >= CAST(${range.from} AS timestamp)`] : []),
    ...(range.to ? [sql`${expr} < CAST(${range.to} AS timestamp)`] : []),
  ];
  const conditions = [
    ...inRange(day),
    ...(input.offsets.length > 0 ? inRange(offsetSource(day, input.offsets)) : []),
    ...input.periodFilters.map((f) =>
      filterSql(f, {
        column: (text) => ({ expr: day, type: 'time', time, ...(grainedFor(input, time, text) ?? {}) }),
      }),
    ),
  ];
  const all = sql`SELECT ${day} AS day FROM ${sql.table(table)} AS sp ${whereClause(conditions)}`;
  return grouped ? all : sql`SELECT MAX(day) AS day FROM (${all}) AS bounded WHERE day <= (SELECT MAX(d) FROM rows)`;
}

function grainedFor(input: CumulativeInput, time: TimeColumn, text: string): { grained: { expr: RawBuilder<unknown>; date: boolean } } | undefined {
  const match = /__([a-z_]+)$/.exec(text);
  if (!match) return undefined;
  const suffix = match[1] as string;
  const grain = GRAINS.find((g) => g.toLowerCase() === suffix);
  if (!grain && !customGrainSpine(input.index.catalog, suffix)) return undefined;
  const grained = grainedTime(input.index, time, grain ? { grain } : { custom: suffix });
  return grained ? { grained } : undefined;
}

/** Without a time spine: every day between the range bounds (or the data's first and last day). */
function spineFromData(scope: NodeScope, grouped: boolean): RawBuilder<unknown> {
  const spineFrom = scope.range.from ? sql`CAST(${scope.range.from.slice(0, 10)} AS date)` : sql`(SELECT MIN(d) FROM rows)`;
  const spineTo = scope.range.to ? sql`(CAST(${scope.range.to.slice(0, 10)} AS date) - 1)` : sql`(SELECT MAX(d) FROM rows)`;
  return grouped
    ? sql`SELECT CAST(day AS date) AS day FROM generate_series(${spineFrom}, ${spineTo}, interval '1 day') AS day`
    : sql`SELECT CAST(${spineTo} AS date) AS day`;
}
