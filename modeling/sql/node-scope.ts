import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Duration, Filter, Grain, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { ResolvedGroupBy, ResolvedQuery } from '../query/resolve-query.ts';
import { METRIC_TIME } from '../query/resolve-query.ts';
import { Relation } from './relation.ts';
import { filterSql, type FilterScope } from './filter-sql.ts';
import { boundFor, extractPart, interval, localTime, truncate, widenToGrain, type TimeColumn } from './time.ts';

/** Everything an aggregation over one model needs: its FROM, time column, group-bys and filters. */
export interface NodeScope {
  readonly relation: Relation;
  readonly model: Model;
  /** The model's time column placing rows in time (shifted by any offset). */
  readonly time: TimeColumn;
  /** One SQL expression per query group-by, in query order. */
  readonly groups: readonly RawBuilder<unknown>[];
  /** Group expressions that are metric_time (the periods), for windows that partition by period. */
  readonly periodGroups: readonly RawBuilder<unknown>[];
  /** The row filters: query where, metric filters and the measure's own filter. */
  readonly filters: readonly RawBuilder<unknown>[];
  /** `time >= from AND time < to` for the (widened) query time range, when one is given. */
  readonly timeRange: readonly RawBuilder<unknown>[];
  readonly range: { from?: string; to?: string };
}

export interface NodeScopeInput {
  readonly index: CatalogIndex;
  readonly query: ResolvedQuery;
  readonly model: Model;
  readonly timeDimension: string;
  readonly filters: readonly Filter[];
  readonly offsets: readonly Duration[];
  /** Alias prefix for the node's tables, unique within one statement. */
  readonly prefix: string;
}

function shifted(column: TimeColumn, offsets: readonly Duration[]): TimeColumn {
  if (offsets.length === 0) return column;
  const moved = offsets.reduce<RawBuilder<unknown>>((expr, offset) => sql`(${expr} + ${interval(offset)})`, localTime(column));
  return { expr: moved, storage: 'timestamp', timeZone: column.timeZone };
}

/** The coarsest grain metric_time is grouped by: the time range widens to its periods. */
export function metricTimeGrain(query: ResolvedQuery): Grain | undefined {
  const grains = query.groupBy.filter((g) => g.dimension === METRIC_TIME && g.grain).map((g) => g.grain as Grain);
  return grains.sort((a, b) => GRAINS.indexOf(b) - GRAINS.indexOf(a))[0];
}

export function buildNodeScope(input: NodeScopeInput): NodeScope {
  const { index, query, model } = input;
  const relation = new Relation(index, model, input.prefix);
  const timeDimension = model.dimensions.find((d) => d.name === input.timeDimension);
  if (!timeDimension) throw new Error(`catalog invariant: no time dimension '${input.timeDimension}' in '${model.name}'`);
  const rawTime: TimeColumn = { expr: relation.baseColumn(timeDimension.sql), storage: timeDimension.storage ?? 'timestamptz', timeZone: model.timeZone };
  const time = shifted(rawTime, input.offsets);

  const column = (ref: string) => {
    if (ref === METRIC_TIME) return { expr: time.expr, type: 'time' as const, time };
    const dot = ref.indexOf('.');
    const found = relation.dimension(ref.slice(0, dot), ref.slice(dot + 1));
    const columnTime = found.dimension.type === 'time'
      ? { expr: found.expr, storage: found.dimension.storage ?? 'timestamptz', timeZone: found.model.timeZone }
      : undefined;
    return { expr: found.expr, type: found.dimension.type, ...(columnTime ? { time: columnTime } : {}) };
  };
  const scope: FilterScope = { column };
  const groupExpr = (g: ResolvedGroupBy): RawBuilder<unknown> => {
    const c = column(g.dimension === METRIC_TIME ? METRIC_TIME : g.ref);
    if (!c.time) return c.expr;
    if (g.datePart) return extractPart(c.time, g.datePart);
    return truncate(c.time, g.grain ?? 'DAY');
  };
  const groups = query.groupBy.map(groupExpr);
  const periodGroups = query.groupBy.flatMap((g, i) => (g.dimension === METRIC_TIME ? [groups[i] as RawBuilder<unknown>] : []));
  const filters = input.filters.map((f) => filterSql(f, scope));
  const range = widenToGrain(query.timeRange ?? {}, metricTimeGrain(query));
  const timeRange = [
    ...(range.from ? [sql`${time.expr} >= ${boundFor(time, range.from)}`] : []),
    ...(range.to ? [sql`${time.expr} < ${boundFor(time, range.to)}`] : []),
  ];
  return { relation, model, time, groups, periodGroups, filters, timeRange, range };
}

/** `WHERE a AND b`, or nothing. */
export function whereClause(conditions: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`;
}

/** `GROUP BY 1, 2`, or nothing: ordinals keep parameterized expressions matched. */
export function groupByOrdinals(count: number, first = 1): RawBuilder<unknown> {
  if (count === 0) return sql``;
  return sql`GROUP BY ${sql.join(Array.from({ length: count }, (_, i) => sql.raw(String(first + i))))}`;
}

/** `expr AS "g0", ...` for a node's group-by columns. */
export function groupColumns(groups: readonly RawBuilder<unknown>[]): RawBuilder<unknown>[] {
  return groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
}
