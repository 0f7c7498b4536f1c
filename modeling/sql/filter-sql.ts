import { sql, type RawBuilder } from 'kysely';
import type { DimensionType, Filter, Grain } from '../catalog/types.ts';
import { comparisonSql, conditionSql, type SqlOperand } from '../conditions/condition-sql.ts';
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

/**
 * Compiles a metric filter to a SQL predicate with the one comparison compiler of the
 * condition language (`comparisonSql`): the scope resolves what each leaf names, the
 * comparison itself (operators, string order, null logic) is the rules' own.
 */
export function filterSql(filter: Filter, scope: FilterScope): RawBuilder<unknown> {
  return conditionSql(filter, (leaf) => {
    switch (leaf.kind) {
      case 'compare': {
        const column = scope.column(leaf.dimension);
        return comparisonSql(operand(column, leaf.grain), leaf.op, leaf.values);
      }
      case 'metric': {
        if (!scope.metricValue) throw new Error('filter invariant: metric filters are not supported here');
        return comparisonSql({ expr: scope.metricValue(leaf), type: 'number' }, leaf.op, leaf.values);
      }
    }
  });
}

/** The compared expression of a dimension leaf: at the grain the reference or the leaf names, literals cast to match. */
function operand(column: FilterColumn, grain: Grain | undefined): SqlOperand {
  const text = column.expr;
  if (!grain && column.grained) {
    const date = column.grained.date;
    return { expr: column.grained.expr, type: 'time', text, literal: (v) => (date ? sql`CAST(${v} AS date)` : sql`CAST(${v} AS timestamp)`) };
  }
  switch (column.type) {
    case 'number':
    case 'boolean':
    case 'string':
      return { expr: column.expr, type: column.type };
    case 'time': {
      const time = column.time;
      if (!time) return { expr: column.expr, type: 'time', literal: (v) => sql`CAST(${v} AS timestamp)` };
      if (grain)
        return {
          expr: truncate(time, grain),
          type: 'time',
          text,
          literal: (v) => (SUB_DAILY_GRAINS.has(grain) ? sql`CAST(${v} AS timestamp)` : sql`CAST(${v} AS date)`),
        };
      return { expr: column.expr, type: 'time', literal: (v) => boundFor(time, v) };
    }
  }
}
