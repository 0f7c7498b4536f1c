import { sql, type RawBuilder } from 'kysely';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import { GRAINS, type Dimension, type Grain, type NonAdditive } from '../catalog/types.ts';
import { memberOf } from '../catalog/locate-dimension.ts';
import { fromLocalTime, grainStep, localTime, truncate, type TimeColumn } from './time.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { measureValue, type AggregateColumn } from './aggregate-node.ts';
import { groupByOrdinals, groupColumns, groupsWithin, periodsOf, rangeConditions, whereClause, type NodeScope } from './node-scope.ts';

/**
 * Semi-additive measures: only the rows at the last (or first) value of their non-additive
 * time dimension count, per period of metric_time and per window grouping, and the
 * filters apply before that choice (MetricFlow's semantics). Measures with the same
 * non-additive rule and filters pick the same rows, so several are aggregated in one pass
 * (AUM and the distinct customers holding it).
 */
export function semiAdditiveNodeSql(
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  nonAdditive: NonAdditive,
  periods?: PeriodsOfTime,
  dialect: SqlDialect = POSTGRES_DIALECT,
): RawBuilder<unknown> {
  const dimension = scope.model.dimensions.find((d) => d.name === nonAdditive.dimension);
  if (!dimension) throw new Error(`catalog invariant: no dimension '${nonAdditive.dimension}'`);
  const column_ = scope.relation.baseColumn(dimension.sql);
  // A non-additive dimension coarser than a day is compared at its own grain.
  const coarse = dimension.grain && ['WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(dimension.grain);
  if (periods && !coarse && nonAdditive.groupings.length === 0)
    return probedSemiAdditiveSql(scope, columns, nonAdditive.window, dimension, periods.grain, dialect);
  const at = coarse
    ? truncate({ expr: column_, storage: dimension.storage ?? 'timestamptz', timeZone: scope.model.timeZone }, dimension.grain as Grain)
    : column_;
  const partition = [...scope.periodGroups, ...nonAdditive.groupings.map((name) => scope.relation.baseColumn(memberOf(scope.model, name)?.sql ?? name))];
  const windowFn = nonAdditive.window === 'max' ? sql`MAX(${at})` : sql`MIN(${at})`;
  const over = partition.length > 0 ? sql`OVER (PARTITION BY ${sql.join(partition)})` : sql`OVER ()`;
  const inner = [
    ...groupColumns(scope.groups),
    ...columns.map((c, i) => sql`${measureValue(scope, c.measure) ?? sql`1`} AS ${sql.id(`v${i}`)}`),
    sql`${at} AS ${sql.id('at')}`,
    sql`${windowFn} ${over} AS ${sql.id('chosen')}`,
  ];
  const where = whereClause([...scope.timeRange, ...scope.filters]);
  const outerGroups = scope.groups.map((_, i) => sql.ref(`s.g${i}`));
  const aggregates = columns.map((c, i) => sql`${aggregationSql(c.measure, c.measure.sql === '*' ? null : sql.ref(`s.v${i}`))} AS ${sql.id(c.column)}`);
  const select = [...outerGroups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), ...aggregates];
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
function probedSemiAdditiveSql(
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  window: NonAdditive['window'],
  dimension: Dimension,
  grain: Grain | undefined,
  dialect: SqlDialect,
): RawBuilder<unknown> {
  // The values first: the relation's sub-select lists the columns read before \`from()\`.
  const values = columns.map((c) => measureValue(scope, c.measure));
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
  const probe = scope.filters.length === 0 ? { from: aloneFrom, at: aloneTime.expr, conditions: aloneRange } : { from, at, conditions: rowFilters };
  const order = window === 'max' ? sql`DESC NULLS FIRST` : sql`ASC NULLS LAST`;
  const pick = (more: readonly RawBuilder<unknown>[]) =>
    sql`(SELECT ${probe.at} FROM ${probe.from} ${whereClause([...more, ...probe.conditions, sql`${probe.at} IS NOT NULL`])} ORDER BY ${probe.at} ${order} LIMIT 1)`;
  let chosen: RawBuilder<unknown>;
  if (!grain) {
    chosen = sql`${at} = ${pick([])}`;
  } else if (time.storage === 'date' && GRAINS.indexOf(grain) <= GRAINS.indexOf('DAY')) {
    // A date is its own day: every row is at its period's only time.
    chosen = sql`${at} IS NOT NULL`;
  } else if (scope.periodGrain === grain && periodsOf(scope.range, grain).length > 1) {
    // By periods of a bounded range: each period's rows at its own last (or first) time,
    // aggregated apart with the period a constant, so no statement sorts every period's rows
    // by period (a distinct count, the customers holding AUM, sorts within each part only).
    // Each probe is uncorrelated (its period's bounds are constants), on either dialect.
    const parts = periodsOf(scope.range, grain).map((p) => {
      const within = rangeConditions(time, p);
      const probeWithin = rangeConditions({ ...time, expr: probe.at }, p);
      const aggregates = columns.map((c, i) => sql`${aggregationSql(c.measure, values[i] ?? null)} AS ${sql.id(c.column)}`);
      return sql`SELECT ${sql.join([...groupColumns(groupsWithin(scope, p.from)), ...aggregates])} FROM ${from}
        ${whereClause([...within, ...scope.filters, sql`${at} = ${pick(probeWithin)}`])} ${groupByOrdinals(scope.groups.length)}`;
    });
    return sql.join(parts, sql` UNION ALL `);
  } else if (!dialect.supportsCorrelatedSubqueryWithCte) {
    // Uncorrelated: the last (or first) time of each period in one grouped pass over the
    // rows the probe reads (still only the base table when no filter needs a join).
    const chosenTime = window === 'max' ? sql`MAX(${probe.at})` : sql`MIN(${probe.at})`;
    const period = truncate({ ...time, expr: probe.at }, grain);
    chosen = sql`${at} IN (SELECT ${chosenTime} FROM ${probe.from} ${whereClause([...probe.conditions, sql`${probe.at} IS NOT NULL`])} GROUP BY ${period})`;
  } else {
    // The periods between the first and last time in range (two probes of the base table).
    const bounds = sql`SELECT date_trunc(${sql.lit(grain.toLowerCase())}, ${localTime({ ...aloneTime, expr: sql`MIN(${aloneTime.expr})` })}) AS lo,
      ${localTime({ ...aloneTime, expr: sql`MAX(${aloneTime.expr})` })} AS hi FROM ${aloneFrom} ${whereClause(aloneRange)}`;
    const period = `${scope.relation.aliasPrefix}period`;
    const start = sql.ref(`${period}.start`);
    const probeTime = { ...time, expr: probe.at };
    const within = [
      sql`${probe.at} >= ${fromLocalTime(probeTime, start)}`,
      sql`${probe.at} < ${fromLocalTime(probeTime, sql`${start} + ${grainStep(grain)}`)}`,
    ];
    chosen = sql`${at} = ANY(ARRAY(SELECT ${pick(within)} FROM (${bounds}) AS bounds, generate_series(bounds.lo, bounds.hi, ${grainStep(grain)}) AS ${sql.id(period)}(start)))`;
  }
  const aggregates = columns.map((c, i) => sql`${aggregationSql(c.measure, values[i] ?? null)} AS ${sql.id(c.column)}`);
  const select = [...groupColumns(scope.groups), ...aggregates];
  return sql`SELECT ${sql.join(select)} FROM ${from} ${whereClause([...rowFilters, chosen])} ${groupByOrdinals(scope.groups.length)}`;
}
