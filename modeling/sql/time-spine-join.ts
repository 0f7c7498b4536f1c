import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Filter, Grain } from '../catalog/types.ts';
import type { ResolvedGroupBy } from '../query/resolve-query.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { filterSql, type FilterColumn } from './filter-sql.ts';
import { grainedTime, whereClause } from './node-scope.ts';
import { extractPart, spineFor, type TimeColumn } from './time.ts';

/** The distinct metric_time periods of the time spine inside a range, one column per period group-by (`g<i>`). */
export function spinePeriods(
  index: CatalogIndex,
  query: PlanQuery,
  periodIndexes: readonly number[],
  grain: Grain,
  range: { from?: string; to?: string },
): RawBuilder<unknown> {
  const spine = spineFor(index.catalog, grain);
  if (!spine) throw new Error('catalog invariant: joining to the time spine needs a time spine');
  const column = sql`CAST(${sql.ref(`sp.${spine.column}`)} AS timestamp)`;
  const time: TimeColumn = { expr: column, storage: 'timestamp', timeZone: 'UTC' };
  const select = periodIndexes.map((i) => sql`${periodExpr(index, time, query.groupBy[i] as ResolvedGroupBy)} AS ${sql.id(`g${i}`)}`);
  const conditions = [
    ...(range.from ? [sql`${column} >= CAST(${range.from} AS timestamp)`] : []),
    ...(range.to ? [sql`${column} < CAST(${range.to} AS timestamp)`] : []),
  ];
  return sql`SELECT DISTINCT ${sql.join(select)} FROM ${sql.table(spine.table)} AS sp ${whereClause(conditions)}`;
}

function periodExpr(index: CatalogIndex, time: TimeColumn, g: ResolvedGroupBy): RawBuilder<unknown> {
  if (g.datePart) return extractPart(time, g.datePart);
  // The spine's own custom granularity columns are read directly.
  return (
    grainedTime(index, time, { ...(g.grain ? { grain: g.grain } : {}), ...(g.customGrain ? { custom: g.customGrain } : {}) }, (_spine, column) =>
      sql.ref(`sp.${column}`),
    )?.expr ?? time.expr
  );
}

/**
 * Joins an aggregation to the time spine (MetricFlow's `join_to_timespine`): every period
 * of the range appears, with the aggregation's rows where it has them; the query's filters
 * on group-by columns apply again after the join, so a spine period without data does not
 * bring back rows the filter removed.
 */
export function joinToTimeSpine(
  index: CatalogIndex,
  query: PlanQuery,
  inner: RawBuilder<unknown>,
  valueColumns: readonly string[],
  isPeriod: readonly boolean[],
  grain: Grain,
  range: { from?: string; to?: string },
): RawBuilder<unknown> {
  const periodIndexes = isPeriod.flatMap((p, i) => (p ? [i] : []));
  const periods = spinePeriods(index, query, periodIndexes, grain, range);
  const select = [
    ...query.groupBy.map((_, i) => sql`${sql.ref(isPeriod[i] ? `sp.g${i}` : `n.g${i}`)} AS ${sql.id(`g${i}`)}`),
    ...valueColumns.map((c) => sql`${sql.ref(`n.${c}`)} AS ${sql.id(c)}`),
  ];
  const on = periodIndexes.map((i) => sql`${sql.ref(`n.g${i}`)} = ${sql.ref(`sp.g${i}`)}`);
  const again = reappliedFilters(query, isPeriod);
  return sql`SELECT ${sql.join(select)} FROM (${periods}) AS sp LEFT JOIN (${inner}) AS n ON ${sql.join(on, sql` AND `)} ${whereClause(again)}`;
}

/** The parts of the query filter that name only grouped, non-time columns: they can be applied to the output. */
function reappliedFilters(query: PlanQuery, isPeriod: readonly boolean[]): RawBuilder<unknown>[] {
  if (!query.where) return [];
  const parts = query.where.kind === 'and' ? query.where.filters : [query.where];
  const groupIndex = (text: string) => query.groupBy.findIndex((g) => g.text === text || g.column === text);
  const applicable = (f: Filter): boolean => {
    if (f.kind === 'and' || f.kind === 'or') return f.filters.every(applicable);
    if (f.kind === 'not') return applicable(f.filter);
    return f.kind === 'compare' && groupIndex(f.dimension) >= 0;
  };
  return parts.filter(applicable).map((f) =>
    filterSql(f, {
      column: (text): FilterColumn => {
        const i = groupIndex(text);
        if (!isPeriod[i]) return { expr: sql.ref(`n.g${i}`), type: query.groupBy[i]?.type ?? 'string' };
        const period = sql.ref(`sp.g${i}`);
        return {
          expr: period,
          type: 'time',
          grained: {
            expr: period,
            date: query.groupBy[i]?.grain !== undefined && !['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR'].includes(query.groupBy[i]?.grain as string),
          },
        };
      },
    }),
  );
}
