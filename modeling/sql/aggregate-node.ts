import { sql, type RawBuilder } from 'kysely';
import { GRAINS, type Dimension, type Filter, type Grain, type Measure, type NonAdditive } from '../catalog/types.ts';
import { memberOf } from '../catalog/locate-dimension.ts';
import { fromLocalTime, grainStep, localTime, truncate, type TimeColumn } from './time.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, groupColumns, rangeConditions, whereClause, type NodeScope } from './node-scope.ts';

export interface AggregateColumn {
  readonly column: string;
  readonly measure: Measure;
  /** The measure's own row filter, when it shares the node with other measures. */
  readonly filter?: Filter;
}

/**
 * One fact model aggregated at the requested grain: `SELECT groups, AGG(measure) ... GROUP BY
 * groups`. Joins are many-to-one only, so no measure is ever multiplied. Measures with their
 * own filters are read in the same pass: `AGG(...) FILTER (WHERE own)`, null for a group
 * none of whose rows pass (as when it is aggregated alone and the group is absent); without
 * group-bys, the aggregate of no rows (a count of 0), as alone.
 */
export function aggregateNodeSql(scope: NodeScope, columns: readonly AggregateColumn[], options: { countKeys: boolean } = { countKeys: true }): RawBuilder<unknown> {
  const own = columns.map((c) => (c.filter ? scope.compileFilter(c.filter) : undefined));
  const alone = columns.length === 1;
  const values = columns.map((c, i) => {
    const aggregate = aggregationSql(options.countKeys ? withoutRedundantDistinct(scope, c.measure) : c.measure, measureValue(scope, c.measure));
    const filter = own[i];
    if (!filter || alone) return sql`${aggregate} AS ${sql.id(c.column)}`;
    // Without group-bys there is one row, aggregated over whatever passes (a count of nothing is 0).
    if (scope.groups.length === 0) return sql`${aggregate} FILTER (WHERE ${filter}) AS ${sql.id(c.column)}`;
    // A count of rows is 0 exactly when no row passes.
    if (c.measure.aggregation === 'count' && c.measure.sql === '*') return sql`NULLIF(${aggregate} FILTER (WHERE ${filter}), 0) AS ${sql.id(c.column)}`;
    return sql`CASE WHEN COUNT(*) FILTER (WHERE ${filter}) > 0 THEN ${aggregate} FILTER (WHERE ${filter}) END AS ${sql.id(c.column)}`;
  });
  const select = [...groupColumns(scope.groups), ...values];
  // Only rows some measure reads: its own filter, or any of them when every measure has one.
  const rowsRead = own.every((f) => f !== undefined) ? [own.length === 1 ? own[0]! : sql`(${sql.join(own.map((f) => sql`(${f})`), sql` OR `)})`] : [];
  const where = whereClause([...scope.timeRange, ...scope.filters, ...rowsRead]);
  return sql`SELECT ${sql.join(select)} FROM ${scope.relation.from()} ${where} ${groupByOrdinals(scope.groups.length)}`;
}

/**
 * A distinct count of the model's own primary key is a plain count: joins are many-to-one,
 * so each row of the model appears once, and counting needs no sort or hash of the keys.
 */
function withoutRedundantDistinct(scope: NodeScope, measure: Measure): Measure {
  const [key, ...more] = scope.model.primaryKey;
  return measure.aggregation === 'count_distinct' && more.length === 0 && measure.sql === key ? { ...measure, aggregation: 'count' } : measure;
}

function measureValue(scope: NodeScope, measure: Measure): RawBuilder<unknown> | null {
  return measure.sql === '*' ? null : scope.relation.baseColumn(measure.sql);
}

/**
 * A semi-additive measure: only the rows at the last (or first) value of its non-additive
 * time dimension count, per period of metric_time and per window grouping, and the
 * filters apply before that choice (MetricFlow's semantics).
 */
export function semiAdditiveNodeSql(scope: NodeScope, column: AggregateColumn, nonAdditive: NonAdditive, periods?: PeriodsOfTime): RawBuilder<unknown> {
  const dimension = scope.model.dimensions.find((d) => d.name === nonAdditive.dimension);
  if (!dimension) throw new Error(`catalog invariant: no dimension '${nonAdditive.dimension}'`);
  const column_ = scope.relation.baseColumn(dimension.sql);
  // A non-additive dimension coarser than a day is compared at its own grain.
  const coarse = dimension.grain && ['WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(dimension.grain);
  if (periods && !coarse && nonAdditive.groupings.length === 0) return probedSemiAdditiveSql(scope, column, nonAdditive.window, dimension, periods.grain);
  const at = coarse ? truncate({ expr: column_, storage: dimension.storage ?? 'timestamptz', timeZone: scope.model.timeZone }, dimension.grain as Grain) : column_;
  const partition = [
    ...scope.periodGroups,
    ...nonAdditive.groupings.map((name) => scope.relation.baseColumn(memberOf(scope.model, name)?.sql ?? name)),
  ];
  const windowFn = nonAdditive.window === 'max' ? sql`MAX(${at})` : sql`MIN(${at})`;
  const over = partition.length > 0 ? sql`OVER (PARTITION BY ${sql.join(partition)})` : sql`OVER ()`;
  const value = measureValue(scope, column.measure) ?? sql`1`;
  const inner = [
    ...groupColumns(scope.groups),
    sql`${value} AS ${sql.id('value')}`,
    sql`${at} AS ${sql.id('at')}`,
    sql`${windowFn} ${over} AS ${sql.id('chosen')}`,
  ];
  const where = whereClause([...scope.timeRange, ...scope.filters]);
  const outerGroups = scope.groups.map((_, i) => sql.ref(`s.g${i}`));
  const aggregate = aggregationSql(column.measure, column.measure.sql === '*' ? null : sql.ref('s.value'));
  const select = [...outerGroups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), sql`${aggregate} AS ${sql.id(column.column)}`];
  return sql`SELECT ${sql.join(select)} FROM (SELECT ${sql.join(inner)} FROM ${scope.relation.from()} ${where}) AS s WHERE s.at = s.chosen ${groupByOrdinals(scope.groups.length)}`;
}

/**
 * The periods of a semi-additive query when its non-additive dimension is the node's own,
 * unshifted time: `grain` is the one plain grain metric_time is grouped by (none: the whole
 * range is one period).
 */
export interface PeriodsOfTime {
  readonly grain?: Grain;
}

/**
 * A semi-additive measure over its own time without window groupings: each period's last
 * (or first) time is found by one ordered probe (`ORDER BY time DESC LIMIT 1`, which an
 * index on the time column answers without reading the period), then only the rows at
 * those times are aggregated. Same rows as the window form; far fewer read.
 */
function probedSemiAdditiveSql(scope: NodeScope, column: AggregateColumn, window: NonAdditive['window'], dimension: Dimension, grain: Grain | undefined): RawBuilder<unknown> {
  const value = measureValue(scope, column.measure);
  const at = scope.relation.baseColumn(dimension.sql);
  const time: TimeColumn = { expr: at, storage: dimension.storage ?? 'timestamptz', timeZone: scope.model.timeZone };
  const from = scope.relation.from();
  const rowFilters = [...scope.timeRange, ...scope.filters];
  // The base table alone, for the probes that need none of the joins.
  const alone = scope.relation.alone(`${scope.relation.aliasPrefix}a`);
  const aloneTime: TimeColumn = { ...time, expr: alone.baseColumn(dimension.sql) };
  const aloneFrom = alone.from();
  const aloneRange = rangeConditions(aloneTime, scope.range);
  // The probe reads the rows the query reads: through the joins only when a filter needs them.
  const probe = scope.filters.length === 0
    ? { from: aloneFrom, at: aloneTime.expr, conditions: aloneRange }
    : { from, at, conditions: rowFilters };
  const order = window === 'max' ? sql`DESC NULLS FIRST` : sql`ASC NULLS LAST`;
  const pick = (more: readonly RawBuilder<unknown>[]) =>
    sql`(SELECT ${probe.at} FROM ${probe.from} ${whereClause([...more, ...probe.conditions, sql`${probe.at} IS NOT NULL`])} ORDER BY ${probe.at} ${order} LIMIT 1)`;
  let chosen: RawBuilder<unknown>;
  if (!grain) {
    chosen = sql`${at} = ${pick([])}`;
  } else if (time.storage === 'date' && GRAINS.indexOf(grain) <= GRAINS.indexOf('DAY')) {
    // A date is its own day: every row is at its period's only time.
    chosen = sql`${at} IS NOT NULL`;
  } else {
    // The periods between the first and last time in range (two probes of the base table).
    const bounds = sql`SELECT date_trunc(${sql.lit(grain.toLowerCase())}, ${localTime({ ...aloneTime, expr: sql`MIN(${aloneTime.expr})` })}) AS lo,
      ${localTime({ ...aloneTime, expr: sql`MAX(${aloneTime.expr})` })} AS hi FROM ${aloneFrom} ${whereClause(aloneRange)}`;
    const period = `${scope.relation.aliasPrefix}period`;
    const start = sql.ref(`${period}.start`);
    const probeTime = { ...time, expr: probe.at };
    const within = [sql`${probe.at} >= ${fromLocalTime(probeTime, start)}`, sql`${probe.at} < ${fromLocalTime(probeTime, sql`${start} + ${grainStep(grain)}`)}`];
    chosen = sql`${at} = ANY(ARRAY(SELECT ${pick(within)} FROM (${bounds}) AS bounds, generate_series(bounds.lo, bounds.hi, ${grainStep(grain)}) AS ${sql.id(period)}(start)))`;
  }
  const aggregate = aggregationSql(column.measure, value);
  const select = [...groupColumns(scope.groups), sql`${aggregate} AS ${sql.id(column.column)}`];
  return sql`SELECT ${sql.join(select)} FROM ${from} ${whereClause([...rowFilters, chosen])} ${groupByOrdinals(scope.groups.length)}`;
}
