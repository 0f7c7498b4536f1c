import { sql, type RawBuilder } from 'kysely';
import type { Filter, Measure } from '../catalog/types.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, groupColumns, periodsOf, rangeConditions, whereClause, type NodeScope } from './node-scope.ts';

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
export function aggregateNodeSql(
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  options: { countKeys: boolean } = { countKeys: true },
): RawBuilder<unknown> {
  const own = columns.map((c) => (c.filter ? scope.compileFilter(c.filter) : undefined));
  const alone = columns.length === 1;
  const distinct = options.countKeys ? sharedDistinctValue(scope, columns) : undefined;
  if (distinct) return distinctPairsSql(scope, columns, distinct, own);
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
  const rowsRead = own.every((f) => f !== undefined)
    ? [
        own.length === 1
          ? own[0]!
          : sql`(${sql.join(
              own.map((f) => sql`(${f})`),
              sql` OR `,
            )})`,
      ]
    : [];
  const where = whereClause([...scope.timeRange, ...scope.filters, ...rowsRead]);
  return sql`SELECT ${sql.join(select)} FROM ${scope.relation.from()} ${where} ${groupByOrdinals(scope.groups.length)}`;
}

/**
 * The one expression every column counts distinct values of, when each column is exactly
 * that count (no other aggregate, no filter of its own unless it is alone).
 */
function sharedDistinctValue(scope: NodeScope, columns: readonly AggregateColumn[]): RawBuilder<unknown> | undefined {
  const measures = columns.map((c) => withoutRedundantDistinct(scope, c.measure));
  const [first] = measures;
  if (first?.aggregation !== 'count_distinct' || first.sql === '*') return undefined;
  if (measures.some((m) => m.aggregation !== 'count_distinct' || m.sql !== first.sql)) return undefined;
  if (columns.length > 1 && columns.some((c) => c.filter)) return undefined;
  return measureValue(scope, first) ?? undefined;
}

/**
 * `COUNT(DISTINCT v)` per group as the count of the group's distinct (groups, v) pairs: the
 * pairs are found by one hash aggregate, where the distinct count sorts every group's rows
 * (at a million customers, a month of events). `COUNT(v)` skips the null pair as the distinct
 * count skips nulls, and a group whose values are all null still counts 0.
 */
function distinctPairsSql(
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  value: RawBuilder<unknown>,
  own: readonly (RawBuilder<unknown> | undefined)[],
): RawBuilder<unknown> {
  const only = own.length === 1 ? own[0] : undefined;
  const rowsRead = only ? [only] : [];
  const pairsIn = (timeRange: readonly RawBuilder<unknown>[]) =>
    sql`SELECT ${sql.join([...groupColumns(scope.groups), sql`${value} AS v`])} FROM ${scope.relation.from()} ${whereClause([...timeRange, ...scope.filters, ...rowsRead])} ${groupByOrdinals(scope.groups.length + 1)}`;
  // Grouped by periods of a bounded range: the pairs of each period apart (every group lies
  // within one period), so each hash holds one period's pairs and need not spill to disk.
  const periods = scope.periodGrain ? periodsOf(scope.range, scope.periodGrain) : [];
  const pairs =
    periods.length > 1
      ? sql.join(
          periods.map((p) => pairsIn(rangeConditions(scope.time, p))),
          sql` UNION ALL `,
        )
      : pairsIn(scope.timeRange);
  const outer = [...scope.groups.map((_, i) => sql.id(`g${i}`)), ...columns.map((c) => sql`COUNT(v) AS ${sql.id(c.column)}`)];
  return sql`SELECT ${sql.join(outer)} FROM (${pairs}) AS pairs ${groupByOrdinals(scope.groups.length)}`;
}

/**
 * A distinct count of the model's own primary key is a plain count: joins are many-to-one,
 * so each row of the model appears once, and counting needs no sort or hash of the keys.
 */
function withoutRedundantDistinct(scope: NodeScope, measure: Measure): Measure {
  const [key, ...more] = scope.model.primaryKey;
  return measure.aggregation === 'count_distinct' && more.length === 0 && measure.sql === key ? { ...measure, aggregation: 'count' } : measure;
}

/** The measure's expression over the node's base table; null for `*`. */
export function measureValue(scope: NodeScope, measure: Measure): RawBuilder<unknown> | null {
  return measure.sql === '*' ? null : scope.relation.baseColumn(measure.sql);
}
