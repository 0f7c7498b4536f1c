import { sql, type RawBuilder } from 'kysely';
import type { ConversionMetric, Measure } from '../catalog/types.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, whereClause, type NodeScope } from './node-scope.ts';
import { interval } from './time.ts';
import type { Relation } from './relation.ts';

export interface ConversionSide {
  readonly scope: NodeScope;
  readonly measure: Measure;
  /** The entity column and raw (unshifted) time column of this side's model. */
  readonly entity: RawBuilder<unknown>;
  readonly time: RawBuilder<unknown>;
}

/**
 * A conversion metric: opportunities are the base measure over base events (every event, or
 * each entity's first, ever or within the period); each conversion event of the same entity
 * inside the window after a base event is matched to the latest such base event, takes that
 * event's group-by values, and counts once in the conversion measure.
 */
export function conversionNodeSql(
  metric: ConversionMetric,
  base: ConversionSide,
  conversion: ConversionSide & { readonly rowKey: readonly RawBuilder<unknown>[] },
  columns: { readonly opportunities: string; readonly conversions: string },
): RawBuilder<unknown> {
  const groups = base.scope.groups;
  const groupCols = groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
  const baseValue = valueOf(base.measure, base.scope.relation);
  const ranked = metric.baseEvents === 'first_ever'
    ? sql`, ROW_NUMBER() OVER (PARTITION BY ${base.entity} ORDER BY ${base.time}) AS rn`
    : sql``;
  // first_ever ranks every event before the time range applies; the range then keeps the firsts inside it.
  const baseRows = sql`SELECT ${sql.join([...groupCols, sql`${base.entity} AS e`, sql`${base.time} AS t`, sql`${baseValue} AS value`])}${
    metric.baseEvents === 'first_in_period'
      ? sql`, ROW_NUMBER() OVER (PARTITION BY ${sql.join([base.entity, ...base.scope.periodGroups])} ORDER BY ${base.time}) AS rn`
      : metric.baseEvents === 'first_ever' ? sql`, TRUE AS in_range` : sql``}
    FROM ${base.scope.relation.from()} ${whereClause([...(metric.baseEvents === 'first_ever' ? [] : base.scope.timeRange), ...base.scope.filters])}`;
  const baseEvents = metric.baseEvents === 'all'
    ? baseRows
    : metric.baseEvents === 'first_in_period'
      ? sql`SELECT * FROM (${baseRows}) AS ranked WHERE rn = 1`
      : firstEverEvents(base, groupCols, baseValue, ranked);

  const lowerGap = metric.window.min ? sql` + ${interval(metric.window.min)}` : sql``;
  const upper = metric.window.max ? sql` AND c.t <= b.t + ${interval(metric.window.max)}` : sql``;
  const conversionValue = valueOf(conversion.measure, conversion.scope.relation);
  const conversionRows = sql`SELECT ${sql.join([
    sql`${conversion.entity} AS e`,
    sql`${conversion.time} AS t`,
    sql`${conversionValue} AS value`,
    sql`ROW(${sql.join(conversion.rowKey)}) AS row_key`,
  ])} FROM ${conversion.scope.relation.from()} ${whereClause([...conversion.scope.filters])}`;
  const bGroups = groups.map((_, i) => sql.ref(`b.g${i}`));
  const matched = sql`SELECT DISTINCT ON (c.row_key) ${sql.join([...bGroups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), sql`c.value AS value`])}
    FROM base_events AS b JOIN conversion_events AS c ON c.e = b.e AND c.t > b.t${lowerGap}${upper}
    ORDER BY c.row_key, b.t DESC`;

  const outGroups = groups.map((_, i) => sql.id(`g${i}`));
  const opportunities = aggregationSql(base.measure, base.measure.sql === '*' ? null : sql.ref('value'));
  const conversions = aggregationSql(conversion.measure, conversion.measure.sql === '*' ? null : sql.ref('value'));
  const part = (source: string, aggregate: RawBuilder<unknown>, opportunitiesFirst: boolean) => sql`SELECT ${sql.join([
    ...outGroups,
    opportunitiesFirst ? sql`${aggregate} AS o` : sql`CAST(NULL AS numeric) AS o`,
    opportunitiesFirst ? sql`CAST(NULL AS numeric) AS c` : sql`${aggregate} AS c`,
  ])} FROM ${sql.table(source)} ${groupByOrdinals(groups.length)}`;
  const finalSelect = [...outGroups, sql`MAX(o) AS ${sql.id(columns.opportunities)}`, sql`MAX(c) AS ${sql.id(columns.conversions)}`];
  return sql`WITH base_events AS (${baseEvents}), conversion_events AS (${conversionRows}), matched AS (${matched})
    SELECT ${sql.join(finalSelect)} FROM (${part('base_events', opportunities, true)} UNION ALL ${part('matched', conversions, false)}) AS parts
    ${groupByOrdinals(groups.length)}`;
}

function valueOf(measure: Measure, relation: Relation): RawBuilder<unknown> {
  return measure.sql === '*' ? sql`1` : relation.baseColumn(measure.sql);
}

function firstEverEvents(base: ConversionSide, groupCols: RawBuilder<unknown>[], value: RawBuilder<unknown>, ranked: RawBuilder<unknown>): RawBuilder<unknown> {
  const all = sql`SELECT ${sql.join([...groupCols, sql`${base.entity} AS e`, sql`${base.time} AS t`, sql`${value} AS value`])}${ranked},
    ${base.scope.timeRange.length > 0 ? sql.join(base.scope.timeRange, sql` AND `) : sql`TRUE`} AS in_range
    FROM ${base.scope.relation.from()} ${whereClause([...base.scope.filters])}`;
  return sql`SELECT * FROM (${all}) AS ranked WHERE rn = 1 AND in_range`;
}
