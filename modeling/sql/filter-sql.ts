import { sql, type RawBuilder } from 'kysely';
import type { DimensionType, Filter, Grain } from '../catalog/types.ts';
import { boundFor, truncate, type TimeColumn } from './time.ts';

/** What a filter's dimension references resolve to inside one aggregation. */
export interface FilterScope {
  /** A dimension by reference (`model.dimension`); `metric_time` is the leaf's time column. */
  column(ref: string): { expr: RawBuilder<unknown>; type: DimensionType; time?: TimeColumn };
}

const COMPARISON: Readonly<Record<string, string>> = { EQ: '=', NEQ: '<>', GT: '>', GTE: '>=', LT: '<', LTE: '<=' };

/** Compiles the closed filter language to a SQL predicate; every value is a bound parameter. */
export function filterSql(filter: Filter, scope: FilterScope): RawBuilder<unknown> {
  switch (filter.kind) {
    case 'and':
      return sql`(${sql.join(filter.filters.map((f) => filterSql(f, scope)), sql` AND `)})`;
    case 'or':
      return sql`(${sql.join(filter.filters.map((f) => filterSql(f, scope)), sql` OR `)})`;
    case 'not':
      return sql`(NOT ${filterSql(filter.filter, scope)})`;
    case 'compare':
      return compareSql(filter, scope);
  }
}

function compareSql(filter: Extract<Filter, { kind: 'compare' }>, scope: FilterScope): RawBuilder<unknown> {
  const column = scope.column(filter.dimension);
  const { left, value } = operands(column, filter.grain);
  const values = filter.values.map(value);
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

function operands(
  column: { expr: RawBuilder<unknown>; type: DimensionType; time?: TimeColumn },
  grain: Grain | undefined,
): { left: RawBuilder<unknown>; value: (v: string) => RawBuilder<unknown> } {
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
      if (grain) return { left: truncate(time, grain), value: (v) => sql`CAST(${v} AS date)` };
      return { left: column.expr, value: (v) => boundFor(time, v) };
    }
  }
}
