import { sql, type RawBuilder } from 'kysely';
import type { Grain, Measure, NonAdditive } from '../catalog/types.ts';
import { memberOf } from '../catalog/locate-dimension.ts';
import { truncate } from './time.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, groupColumns, whereClause, type NodeScope } from './node-scope.ts';

export interface AggregateColumn {
  readonly column: string;
  readonly measure: Measure;
}

/**
 * One fact model aggregated at the requested grain: `SELECT groups, AGG(measure) ... GROUP BY
 * groups`. Joins are many-to-one only, so no measure is ever multiplied.
 */
export function aggregateNodeSql(scope: NodeScope, columns: readonly AggregateColumn[]): RawBuilder<unknown> {
  const values = columns.map((c) => sql`${aggregationSql(c.measure, measureValue(scope, c.measure))} AS ${sql.id(c.column)}`);
  const select = [...groupColumns(scope.groups), ...values];
  const where = whereClause([...scope.timeRange, ...scope.filters]);
  return sql`SELECT ${sql.join(select)} FROM ${scope.relation.from()} ${where} ${groupByOrdinals(scope.groups.length)}`;
}

function measureValue(scope: NodeScope, measure: Measure): RawBuilder<unknown> | null {
  return measure.sql === '*' ? null : scope.relation.baseColumn(measure.sql);
}

/**
 * A semi-additive measure: only the rows at the last (or first) value of its non-additive
 * time dimension count, per period of metric_time and per window grouping, and the
 * filters apply before that choice (MetricFlow's semantics).
 */
export function semiAdditiveNodeSql(scope: NodeScope, column: AggregateColumn, nonAdditive: NonAdditive): RawBuilder<unknown> {
  const dimension = scope.model.dimensions.find((d) => d.name === nonAdditive.dimension);
  if (!dimension) throw new Error(`catalog invariant: no dimension '${nonAdditive.dimension}'`);
  const column_ = scope.relation.baseColumn(dimension.sql);
  // A non-additive dimension coarser than a day is compared at its own grain.
  const coarse = dimension.grain && ['WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(dimension.grain);
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
