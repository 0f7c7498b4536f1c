import { sql, type RawBuilder } from 'kysely';
import type { DimensionType, Filter, FilterOp, Grain } from '../catalog/types.ts';
import { boundFor, truncate, type TimeColumn } from './time.ts';

/** A referenced column; `grained` is its value at the grain the reference names (`metric_time__month`). */
export interface FilterColumn {
  expr: RawBuilder<unknown>;
  type: DimensionType;
  time?: TimeColumn;
  grained?: { expr: RawBuilder<unknown>; date: boolean };
}

/** What a filter's dimension references resolve to inside one aggregation. */
export interface FilterScope {
  /** A dimension by reference (`model.dimension`); `metric_time` is the leaf's time column. */
  column(ref: string): FilterColumn;
  /** A metric's value for the current row's entities (for `metric` leaves); absent where not supported. */
  metricValue?(filter: Extract<Filter, { kind: 'metric' }>): RawBuilder<unknown>;
}

const SUB_DAILY_GRAINS: ReadonlySet<Grain> = new Set(['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR']);
const COMPARISON: Readonly<Record<string, string>> = { EQ: '=', NEQ: '<>', GT: '>', GTE: '>=', LT: '<', LTE: '<=' };

/** Compiles the closed filter language to a SQL predicate; every value is a bound parameter. */
export function filterSql(filter: Filter, scope: FilterScope): RawBuilder<unknown> {
  switch (filter.kind) {
    case 'and':
      return sql`(${sql.join(
        filter.filters.map((f) => filterSql(f, scope)),
        sql` AND `,
      )})`;
    case 'or':
      return sql`(${sql.join(
        filter.filters.map((f) => filterSql(f, scope)),
        sql` OR `,
      )})`;
    case 'not':
      return sql`(NOT ${filterSql(filter.filter, scope)})`;
    case 'compare':
      return compareSql(filter, scope);
    case 'metric': {
      if (!scope.metricValue) throw new Error('filter invariant: metric filters are not supported here');
      const value = scope.metricValue(filter);
      return comparison(
        filter.op,
        value,
        filter.values.map((v) => sql`CAST(${v} AS numeric)`),
        filter.values,
        value,
      );
    }
  }
}

function compareSql(filter: Extract<Filter, { kind: 'compare' }>, scope: FilterScope): RawBuilder<unknown> {
  const column = scope.column(filter.dimension);
  const { left, value } = operands(column, filter.grain);
  return comparison(filter.op, left, filter.values.map(value), filter.values, column.expr);
}

function comparison(
  op: FilterOp,
  left: RawBuilder<unknown>,
  values: RawBuilder<unknown>[],
  raw: readonly string[],
  plain: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const filter = { op, values: raw };
  const column = { expr: plain };
  switch (filter.op) {
    case 'IS_NULL':
      return sql`(${left} IS NULL)`;
    case 'IS_NOT_NULL':
      return sql`(${left} IS NOT NULL)`;
    case 'IN':
      return sql`(${left} IN (${sql.join(values)}))`;
    case 'NOT_IN':
      return sql`(${left} NOT IN (${sql.join(values)}))`;
    case 'BETWEEN':
      return sql`(${left} BETWEEN ${values[0]} AND ${values[1]})`;
    case 'CONTAINS':
      return sql`(strpos(CAST(${column.expr} AS text), ${filter.values[0]}) > 0)`;
    case 'STARTS_WITH':
      return sql`starts_with(CAST(${column.expr} AS text), ${filter.values[0]})`;
    default:
      return sql`(${left} ${sql.raw(COMPARISON[filter.op] as string)} ${values[0]})`;
  }
}

function operands(column: FilterColumn, grain: Grain | undefined): { left: RawBuilder<unknown>; value: (v: string) => RawBuilder<unknown> } {
  if (!grain && column.grained) {
    const date = column.grained.date;
    return { left: column.grained.expr, value: (v) => (date ? sql`CAST(${v} AS date)` : sql`CAST(${v} AS timestamp)`) };
  }
  switch (column.type) {
    case 'number':
      return { left: column.expr, value: (v) => sql`CAST(${v} AS numeric)` };
    case 'boolean':
      return { left: column.expr, value: (v) => sql`CAST(${v} AS boolean)` };
    case 'string':
      return { left: column.expr, value: (v) => sql`${v}` };
    case 'time': {
      const time = column.time;
      if (!time) return { left: column.expr, value: (v) => sql`CAST(${v} AS timestamp)` };
      if (grain) return { left: truncate(time, grain), value: (v) => (SUB_DAILY_GRAINS.has(grain) ? sql`CAST(${v} AS timestamp)` : sql`CAST(${v} AS date)`) };
      return { left: column.expr, value: (v) => boundFor(time, v) };
    }
  }
}
