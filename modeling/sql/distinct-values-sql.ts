import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { buildNodeScope, groupByOrdinals, groupColumns, metricTimeGrain, rangeConditions, whereClause, type MetricSubquery } from './node-scope.ts';
import { widenToGrain } from './time.ts';
import { spineFor, type TimeColumn } from './time.ts';
import { StrataError } from '../errors.ts';

/**
 * A query without metrics: the distinct values of its group-bys, read from one model (its
 * joins reach the rest) and, for metric_time, from the time spine (crossed with the model's
 * values, as MetricFlow does); filters and the time range apply as in a metric query.
 */
export function distinctValuesSql(index: CatalogIndex, query: PlanQuery, subquery: MetricSubquery): RawBuilder<unknown> {
  const from = query.distinctFrom;
  if (!from) throw new Error('plan invariant: not a distinct-values query');
  const grain = metricTimeGrain(query) ?? 'DAY';
  const spine = spineFor(index.catalog, grain);
  const usesTime = query.groupBy.some((g) => g.metricTime) || query.timeRange !== undefined;
  if ((from === 'time_spine' || usesTime) && !spine) throw new StrataError('INVALID_QUERY', 'metric_time without metrics needs a time spine in the catalog');
  const spineTime = (alias: string): TimeColumn => ({
    expr: sql`CAST(${sql.ref(`${alias}.${spine?.column}`)} AS timestamp)`,
    storage: 'timestamp',
    timeZone: 'UTC',
  });
  if (from === 'time_spine') {
    const time = spineTime('ts');
    const groups = query.groupBy.map((g) => timeGroup(time, g.grain ?? 'DAY'));
    const range = rangeConditions(time, widen(query));
    return sql`SELECT ${sql.join(groups.map((g, i) => sql`${g} AS ${sql.id(query.groupBy[i]?.column as string)}`))} FROM ${sql.table(spine?.table as string)} AS ts ${whereClause(range)} ${groupByOrdinals(groups.length)}`;
  }
  const scope = buildNodeScope({
    index,
    query,
    model: index.model(from),
    timeDimension: '',
    filters: query.where ? [query.where] : [],
    offsets: [],
    prefix: 'd',
    subquery,
    joinKind: 'FULL',
    timeOverride: (relation) => {
      if (!usesTime || !spine) return { expr: sql`CAST(NULL AS timestamp)`, storage: 'timestamp', timeZone: 'UTC' };
      relation.addJoin(sql`CROSS JOIN ${sql.table(spine.table)} AS ${sql.id('dts')}`);
      return spineTime('dts');
    },
  });
  const select = groupColumns(scope.groups);
  const outer = query.groupBy.map((_, i) => sql.ref(`dv.g${i}`));
  return sql`SELECT ${sql.join(outer.map((g, i) => sql`${g} AS ${sql.id(query.groupBy[i]?.column as string)}`))} FROM (SELECT ${sql.join(select)} FROM ${scope.relation.from()} ${whereClause([...scope.timeRange, ...scope.filters])}) AS dv ${groupByOrdinals(query.groupBy.length)}`;
}

function widen(query: PlanQuery) {
  return widenToGrain(query.timeRange ?? {}, metricTimeGrain(query));
}

function timeGroup(time: TimeColumn, grain: string): RawBuilder<unknown> {
  const truncated = sql`date_trunc(${sql.lit(grain.toLowerCase())}, ${time.expr})`;
  return ['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR'].includes(grain) ? truncated : sql`CAST(${truncated} AS date)`;
}
