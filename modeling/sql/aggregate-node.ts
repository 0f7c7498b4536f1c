import { sql, type RawBuilder } from 'kysely';
import type { Filter, Measure } from '../catalog/types.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, groupColumns, groupsWithin, periodsOf, rangeConditions, whereClause, type NodeScope } from './node-scope.ts';

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
  options: { countKeys: boolean; entity?: EntityPairs } = { countKeys: true },
): RawBuilder<unknown> {
  const own = columns.map((c) => (c.filter ? scope.compileFilter(c.filter) : undefined));
  const alone = columns.length === 1;
  const distinct = options.countKeys ? sharedDistinctValue(scope, columns) : undefined;
  if (distinct) return distinctPairsSql(scope, columns, distinct, own);
  const mixed = options.countKeys ? mixedDistinctValue(scope, columns) : undefined;
  if (mixed) return mixedPairsSql(scope, columns, mixed, own, options.entity);
  const values = columns.map((c, i) => {
    const measure = options.countKeys ? withoutRedundantDistinct(scope, c.measure) : c.measure;
    const filter = own[i];
    if (!filter || alone) return sql`${aggregationSql(measure, measureValue(scope, c.measure))} AS ${sql.id(c.column)}`;
    const aggregate = aggregationSql(measure, measureValue(scope, c.measure), filter);
    // Without group-bys there is one row, aggregated over whatever passes (a count of nothing is 0).
    if (scope.groups.length === 0) return sql`${aggregate} AS ${sql.id(c.column)}`;
    // A count of rows is 0 exactly when no row passes.
    if (c.measure.aggregation === 'count' && c.measure.sql === '*') return sql`NULLIF(${aggregate}, 0) AS ${sql.id(c.column)}`;
    return sql`CASE WHEN COUNT(*) FILTER (WHERE ${filter}) > 0 THEN ${aggregate} END AS ${sql.id(c.column)}`;
  });
  const rowsRead = rowsReadBy(columns, own);
  const statement = (timeRange: readonly RawBuilder<unknown>[], groups = scope.groups) =>
    sql`SELECT ${sql.join([...groupColumns(groups), ...values])} FROM ${scope.relation.from()} ${whereClause([...timeRange, ...scope.filters, ...rowsRead])} ${groupByOrdinals(scope.groups.length)}`;
  // By periods of a bounded range, as the distinct pairs (`pairsByPeriod`), each period's group
  // a constant: cut per row instead, PostgreSQL cannot tell how few the periods are, and a
  // year of placement clicks and impressions by month was sorted on disk (5.1 s against 2.9 s).
  const periods = scope.periodGrain ? periodsOf(scope.range, scope.periodGrain) : [];
  if (periods.length <= 1) return statement(scope.timeRange);
  return sql.join(
    periods.map((p) => statement(rangeConditions(scope.time, p), groupsWithin(scope, p.from))),
    sql` UNION ALL `,
  );
}

/**
 * Only the rows some measure reads, when every measure has a filter of its own: their
 * disjunction, each distinct filter once. A repeated term (a rate's count beside the hidden
 * count of its subjects over the same rows) makes PostgreSQL overestimate the rows that pass
 * and read the whole period through another index: a month of placement events at a million
 * customers took 1.29 s so, against 0.80 s from the event-name index.
 */
function rowsReadBy(columns: readonly AggregateColumn[], own: readonly (RawBuilder<unknown> | undefined)[]): RawBuilder<unknown>[] {
  if (!own.every((f) => f !== undefined)) return [];
  const distinct = new Map<string, RawBuilder<unknown>>();
  columns.forEach((c, i) => {
    const key = JSON.stringify(c.filter);
    if (!distinct.has(key)) distinct.set(key, own[i] as RawBuilder<unknown>);
  });
  const terms = [...distinct.values()];
  return [
    terms.length === 1
      ? (terms[0] as RawBuilder<unknown>)
      : sql`(${sql.join(
          terms.map((f) => sql`(${f})`),
          sql` OR `,
        )})`,
  ];
}

/**
 * The one expression every column counts distinct values of, when each column is exactly
 * that count (no other aggregate, no filter of its own unless it is alone).
 */
function sharedDistinctValue(scope: NodeScope, columns: readonly AggregateColumn[]): RawBuilder<unknown> | undefined {
  const measures = columns.map((c) => withoutRedundantDistinct(scope, c.measure));
  const [first] = measures;
  if (!isDistinct(first) || first.sql === '*') return undefined;
  if (measures.some((m) => !isDistinct(m) || m.sql !== first.sql)) return undefined;
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
  // Unfiltered rows whose groups are constants (one period's part, or no group-by): the
  // distinct values alone, as `DISTINCT ON`, which PostgreSQL finds by reading an index that
  // leads with the value in order (app_events by (customer_id, occurred_at): a month's
  // distinct customers from its partition's index, no hash of the month's rows; monthly
  // active customers over a year at 1M took 10.4 s hashed and 3.7 s so, on a loaded
  // machine). Filtered rows would be read through that index row by row, so they hash.
  const byValue = scope.filters.length === 0 && rowsRead.length === 0;
  const pairsIn = (timeRange: readonly RawBuilder<unknown>[], groups = scope.groups, constant = groups.length === 0) =>
    byValue && constant
      ? sql`SELECT DISTINCT ON (${value}) ${sql.join([...groupColumns(groups), sql`${value} AS v`])} FROM ${scope.relation.from()} ${whereClause(timeRange)}`
      : sql`SELECT ${sql.join([...groupColumns(groups), sql`${value} AS v`])} FROM ${scope.relation.from()} ${whereClause([...timeRange, ...scope.filters, ...rowsRead])} ${groupByOrdinals(scope.groups.length + 1)}`;
  const pairs = pairsByPeriod(scope, pairsIn);
  const outer = [...scope.groups.map((_, i) => sql.id(`g${i}`)), ...columns.map((c) => sql`COUNT(v) AS ${sql.id(c.column)}`)];
  return sql`SELECT ${sql.join(outer)} FROM (${pairs}) AS pairs ${groupByOrdinals(scope.groups.length)}`;
}

/**
 * The pairs statement `pairsIn` builds, over the scope's time range; grouped by periods of a
 * bounded range, one per period joined by `UNION ALL` (every group lies within one period),
 * so each hash holds one period's pairs and need not spill to disk.
 */
function pairsByPeriod(
  scope: NodeScope,
  pairsIn: (timeRange: readonly RawBuilder<unknown>[], groups?: NodeScope['groups'], constant?: boolean) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const periods = scope.periodGrain ? periodsOf(scope.range, scope.periodGrain) : [];
  if (periods.length <= 1) return pairsIn(scope.timeRange);
  // Within a period, a group cut at the period's grain is one value (groupsWithin).
  const constant = scope.atPeriodGrain.every(Boolean);
  return sql.join(
    periods.map((p) => pairsIn(rangeConditions(scope.time, p), groupsWithin(scope, p.from), constant)),
    sql` UNION ALL `,
  );
}

/**
 * The (groups, entity) pairs `pairsIn` builds over the pairs scope's time range; by periods
 * of a bounded range, each period's pairs apart joined by `UNION ALL`, so each hash holds one
 * period's (within which a group at the period's grain is one value, so it is not grouped by).
 */
function entityPairsByPeriod(
  pairs: NodeScope,
  pairsIn: (timeRange: readonly RawBuilder<unknown>[], groups?: NodeScope['groups']) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const periods = pairs.periodGrain ? periodsOf(pairs.range, pairs.periodGrain) : [];
  if (periods.length <= 1) return pairsIn(pairs.timeRange);
  const groups = pairs.groups.filter((_, i) => !pairs.atPeriodGrain[i]);
  return sql.join(
    periods.map((p) => pairsIn(rangeConditions(pairs.time, p), groups)),
    sql` UNION ALL `,
  );
}

/**
 * The one expression the distinct counts among other aggregates count, when every other
 * column is a count, minimum or maximum (aggregates that re-aggregate exactly from
 * partial results per value) and each has no own filter unless the columns are several.
 */
function mixedDistinctValue(scope: NodeScope, columns: readonly AggregateColumn[]): RawBuilder<unknown> | undefined {
  const measures = columns.map((c) => withoutRedundantDistinct(scope, c.measure));
  const distinct = measures.filter(isDistinct);
  const [first] = distinct;
  if (!first || first.sql === '*' || distinct.some((m) => m.sql !== first.sql)) return undefined;
  if (!measures.every((m) => ['count', 'count_distinct', 'min', 'max'].includes(m.aggregation))) return undefined;
  return measureValue(scope, first) ?? undefined;
}

/**
 * Distinct counts beside counts, minimums and maximums (a rate's counts and the distinct
 * customers small-cell protection counts): per group, the distinct (groups, value) pairs by
 * one hash aggregate, each pair with the partial counts (minimums, maximums) of its rows and
 * the number of its rows each own filter passes; then per group the partials add up and a
 * distinct count is the number of its non-null values some passing row has. The same numbers
 * as `COUNT(DISTINCT v) FILTER (...)`, which sorts every group's rows (at a million
 * customers a year of placement events, spilled to disk); by periods of a bounded range
 * each period's pairs apart, so each hash holds one period's.
 */
function mixedPairsSql(
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  value: RawBuilder<unknown>,
  scopeOwn: readonly (RawBuilder<unknown> | undefined)[],
  entity?: EntityPairs,
): RawBuilder<unknown> {
  const alone = columns.length === 1;
  const measures = columns.map((c) => withoutRedundantDistinct(scope, c.measure));
  // By dimensions the counted entity fixes, the pairs are read over the facts alone (the
  // pairs' scope: its filters, its joins only) and the dimensions joined to the pairs.
  const read = entity?.pairs ?? scope;
  const own = entity ? columns.map((c) => (c.filter ? read.compileFilter(c.filter) : undefined)) : scopeOwn;
  const partial = (i: number) => sql.id(`a${i}`);
  // A count of rows under a filter is itself the number of rows that pass it.
  const passed = (i: number) => (measures[i]?.aggregation === 'count' && measures[i]?.sql === '*' ? partial(i) : sql.id(`p${i}`));
  const filtered = (aggregate: RawBuilder<unknown>, i: number) => {
    const filter = own[i];
    return filter && !alone ? sql`${aggregate} FILTER (WHERE ${filter})` : aggregate;
  };
  const partials = measures.flatMap((m, i) => {
    const rows = own[i] && !alone && !(m.aggregation === 'count' && m.sql === '*') ? [sql`${filtered(sql`COUNT(*)`, i)} AS ${passed(i)}`] : [];
    if (m.aggregation === 'count_distinct') return rows;
    return [sql`${filtered(aggregationSql(m, measureValue(read, m)), i)} AS ${partial(i)}`, ...rows];
  });
  const rowsRead = rowsReadBy(columns, own);
  if (entity) return entityMixedPairsSql(scope, measures, columns, entity, partials, rowsRead, (i) => own[i] !== undefined && !alone, passed, partial);
  const inner = (groups: readonly RawBuilder<unknown>[]) => [...groupColumns(groups), sql`${value} AS v`, ...partials];
  const pairsIn = (timeRange: readonly RawBuilder<unknown>[], groups = scope.groups) =>
    sql`SELECT ${sql.join(inner(groups))} FROM ${scope.relation.from()} ${whereClause([...timeRange, ...scope.filters, ...rowsRead])} ${groupByOrdinals(scope.groups.length + 1)}`;
  const pairs = pairsByPeriod(scope, pairsIn);
  const values = reaggregatedColumns(scope, measures, columns, sql.ref('v'), (i) => own[i] !== undefined && !alone, passed, partial);
  const outer = [...scope.groups.map((_, i) => sql.id(`g${i}`)), ...values];
  return sql`SELECT ${sql.join(outer)} FROM (${pairs}) AS pairs ${groupByOrdinals(scope.groups.length)}`;
}

/** The (periods, entity) pairs' scope of a node grouped by dimensions its counted entity fixes (node-sql.ts `entityDistinct`). */
export interface EntityPairs {
  readonly pairs: NodeScope;
  readonly entitySql: string;
  readonly timeSql: string;
}

/**
 * `mixedPairsSql` by dimensions the entity fixes: the (periods, entity) pairs with their
 * partials over the facts alone, each with its earliest time (a row of the pair, so its
 * periods are the pair's), then the pairs take the base table's place in the scope's joins
 * that give the entity's dimensions (as `entityDistinctSql`), instead of joining every row.
 */
function entityMixedPairsSql(
  scope: NodeScope,
  measures: readonly Measure[],
  columns: readonly AggregateColumn[],
  entity: EntityPairs,
  partials: readonly RawBuilder<unknown>[],
  rowsRead: readonly RawBuilder<unknown>[],
  filtered: (i: number) => boolean,
  passed: (i: number) => RawBuilder<unknown>,
  partial: (i: number) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const { pairs, entitySql, timeSql } = entity;
  const entityName = scope.relation.baseColumnName(entitySql);
  const timeName = scope.isPeriod.some(Boolean) ? scope.relation.baseColumnName(timeSql) : undefined;
  const select = [
    sql`${pairs.relation.baseColumn(entitySql)} AS ${sql.id(entityName)}`,
    ...(timeName ? [sql`MIN(${pairs.relation.baseColumn(timeSql)}) AS ${sql.id(timeName)}`] : []),
    ...partials,
  ];
  const pairsIn = (timeRange: readonly RawBuilder<unknown>[], groups = pairs.groups) =>
    sql`SELECT ${sql.join(select)} FROM ${pairs.relation.from()} ${whereClause([...timeRange, ...pairs.filters, ...rowsRead])} GROUP BY ${sql.join([pairs.relation.baseColumn(entitySql), ...groups])}`;
  const found = entityPairsByPeriod(pairs, pairsIn);
  const values = reaggregatedColumns(scope, measures, columns, scope.relation.baseColumn(entitySql), filtered, passed, partial);
  const from = scope.relation.from({ source: sql`(${found})`, columns: new Set([entityName, ...(timeName ? [timeName] : [])]) });
  return sql`SELECT ${sql.join([...groupColumns(scope.groups), ...values])} FROM ${from} ${groupByOrdinals(scope.groups.length)}`;
}

/** Each column re-aggregated over the pairs of its group: partial counts added up, a distinct count the pairs some passing row has. */
function reaggregatedColumns(
  scope: NodeScope,
  measures: readonly Measure[],
  columns: readonly AggregateColumn[],
  v: RawBuilder<unknown>,
  filtered: (i: number) => boolean,
  passed: (i: number) => RawBuilder<unknown>,
  partial: (i: number) => RawBuilder<unknown>,
): RawBuilder<unknown>[] {
  return measures.map((m, i) => {
    const filter = filtered(i);
    const reaggregated =
      m.aggregation === 'count_distinct'
        ? filter
          ? sql`COUNT(${v}) FILTER (WHERE ${passed(i)} > 0)`
          : sql`COUNT(${v})`
        : m.aggregation === 'count'
          ? sql`CAST(COALESCE(SUM(${partial(i)}), 0) AS bigint)`
          : m.aggregation === 'min'
            ? sql`MIN(${partial(i)})`
            : sql`MAX(${partial(i)})`;
    const column = sql.id(columns[i]!.column);
    if (!filter || scope.groups.length === 0) return sql`${reaggregated} AS ${column}`;
    // As the one-level form: a count of rows is 0 exactly when no row passes; anything else is null then.
    if (m.aggregation === 'count' && m.sql === '*') return sql`NULLIF(${reaggregated}, 0) AS ${column}`;
    return sql`CASE WHEN SUM(${passed(i)}) > 0 THEN ${reaggregated} END AS ${column}`;
  });
}

/** An exact distinct count (a floor, `Measure.distinctFloor`, is a plain one-pass aggregate). */
export function isDistinct(measure: Measure | undefined): measure is Measure {
  return measure?.aggregation === 'count_distinct' && !measure.distinctFloor;
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

/**
 * A distinct count of the entity by periods and by dimensions the entity fixes (node-sql.ts
 * `entityDistinct`): the distinct (periods, entity) pairs of the rows `pairs` reads (its
 * filters, its joins only), each with its earliest time (a row of that pair, so its periods
 * are the pair's), then the pairs take the base table's place in the scope's joins that give
 * the entity's dimensions, and each group counts its pairs. A NULL entity is a pair of its
 * own, joined to nothing and counted by no `COUNT`, as the distinct count skips it.
 */
export function entityDistinctSql(
  scope: NodeScope,
  pairs: NodeScope,
  columns: readonly AggregateColumn[],
  entitySql: string,
  timeSql: string,
): RawBuilder<unknown> {
  const entityName = scope.relation.baseColumnName(entitySql);
  const periodic = scope.isPeriod.some(Boolean);
  const timeName = periodic ? scope.relation.baseColumnName(timeSql) : undefined;
  const own = columns.length === 1 && columns[0]?.filter ? [pairs.compileFilter(columns[0].filter)] : [];
  const entity = pairs.relation.baseColumn(entitySql);
  const time = pairs.relation.baseColumn(timeSql);
  const select = [sql`${entity} AS ${sql.id(entityName)}`, ...(timeName ? [sql`MIN(${time}) AS ${sql.id(timeName)}`] : [])];
  const pairsIn = (timeRange: readonly RawBuilder<unknown>[], groups = pairs.groups) =>
    sql`SELECT ${sql.join(select)} FROM ${pairs.relation.from()} ${whereClause([...timeRange, ...pairs.filters, ...own])} GROUP BY ${sql.join([entity, ...groups])}`;
  const found = entityPairsByPeriod(pairs, pairsIn);
  const counted = scope.relation.baseColumn(entitySql);
  const values = columns.map((c) => sql`COUNT(${counted}) AS ${sql.id(c.column)}`);
  const from = scope.relation.from({ source: sql`(${found})`, columns: new Set([entityName, ...(timeName ? [timeName] : [])]) });
  return sql`SELECT ${sql.join([...groupColumns(scope.groups), ...values])} FROM ${from} ${groupByOrdinals(scope.groups.length)}`;
}
