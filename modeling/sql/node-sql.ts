import type { RawBuilder } from 'kysely';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Filter, Grain, Model } from '../catalog/types.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { customGrainNames, parseDimensionRef } from '../catalog/dimension-ref.ts';
import { aggregateNodeSql, entityDistinctSql, isDistinct, type AggregateColumn } from './aggregate-node.ts';
import { anchorGroup } from './conversion-sql.ts';
import type { AggregatePlanNode } from '../query/metric-plan.ts';
import type { NodeScope } from './node-scope.ts';
import { semiAdditiveNodeSql, type PeriodsOfTime } from './semi-additive-node.ts';
import { cumulativeNodeSql } from './cumulative-node.ts';
import { buildNodeScope, metricTimeGrain, type MetricSubquery } from './node-scope.ts';
import { joinToTimeSpine } from './time-spine-join.ts';
import { conversionSql } from './conversion-sql.ts';
import type { PlanNode } from '../query/metric-plan.ts';

/** The SELECT of one plan node; `prefix` keeps its table aliases apart from other nodes'. */
export function nodeSql(
  index: CatalogIndex,
  query: PlanQuery,
  node: PlanNode,
  prefix: string,
  options: { rewrites: boolean; subquery?: MetricSubquery; dialect?: SqlDialect },
): RawBuilder<unknown> {
  const { rewrites, subquery } = options;
  const dialect = options.dialect ?? POSTGRES_DIALECT;
  switch (node.kind) {
    case 'aggregate': {
      const model = index.model(node.model);
      const scope = buildNodeScope({
        index,
        query,
        model,
        timeDimension: node.timeDimension,
        filters: node.filters,
        offsets: node.offsets,
        prefix,
        ...(subquery ? { subquery } : {}),
      });
      const columns = node.columns.map((c) => ({ column: c.column, measure: index.measure(c.measure).measure, ...(c.filter ? { filter: c.filter } : {}) }));
      const periods =
        rewrites && node.nonAdditive?.dimension === node.timeDimension && node.offsets.length === 0 ? periodsOfTime(query, scope.isPeriod) : undefined;
      const entity =
        rewrites && !node.nonAdditive && node.offsets.length === 0 ? entityDistinct(index, query, model, node, scope, columns, prefix, subquery) : undefined;
      const inner =
        node.nonAdditive && columns.length > 0
          ? semiAdditiveNodeSql(scope, columns, node.nonAdditive, periods, dialect)
          : entity && !entity.mixed
            ? entityDistinctSql(scope, entity.pairs, columns, entity.entitySql, entity.timeSql)
            : aggregateNodeSql(scope, columns, { countKeys: rewrites, ...(entity ? { entity } : {}) });
      if (!node.joinToTimeSpine || !scope.isPeriod.some(Boolean) || !index.catalog.timeSpines?.length) return inner;
      return joinToTimeSpine(
        index,
        query,
        inner,
        node.columns.map((c) => c.column),
        scope.isPeriod,
        node.timeGrain,
        scope.range,
      );
    }
    case 'cumulative': {
      const metric = index.metrics.get(node.metric);
      if (metric?.type !== 'CUMULATIVE') throw new Error(`plan invariant: no cumulative metric '${node.metric}'`);
      const { model, measure } = index.measure(node.measure);
      const filters = measure.filter ? [...node.filters, measure.filter] : node.filters;
      const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
      const { rows, periods } = index.catalog.timeSpines?.length ? splitTimeFilters(index, model, timeDimension, filters) : { rows: filters, periods: [] };
      const scope = buildNodeScope({ index, query, model, timeDimension, filters: rows, offsets: node.offsets, prefix, ...(subquery ? { subquery } : {}) });
      const cumulative = cumulativeNodeSql({
        index,
        scope,
        query,
        metric,
        measure,
        column: node.column,
        grain: node.timeGrain,
        periodFilters: periods,
        offsets: node.offsets,
      });
      // join_to_timespine: every spine period of the range, also those whose window holds no rows.
      if (!node.joinToTimeSpine || !scope.isPeriod.some(Boolean) || !index.catalog.timeSpines?.length) return cumulative;
      return joinToTimeSpine(index, query, cumulative, [node.column], scope.isPeriod, node.timeGrain, scope.range);
    }
    case 'conversion': {
      const metric = index.metrics.get(node.metric);
      if (metric?.type !== 'CONVERSION') throw new Error(`plan invariant: no conversion metric '${node.metric}'`);
      return conversionSql(index, query, { ...node, metric }, prefix, { rewrites, dialect, ...(subquery ? { subquery } : {}) });
    }
  }
}

/** The one plain grain of the query's period group-bys (none when there are none), or undefined when they are anything else. */
function periodsOfTime(query: PlanQuery, isPeriod: readonly boolean[]): PeriodsOfTime | undefined {
  const periods = query.groupBy.filter((_, i) => isPeriod[i]);
  if (periods.some((g) => !g.grain || g.datePart || g.customGrain)) return undefined;
  const grains = new Set(periods.map((g) => g.grain as Grain));
  if (grains.size > 1) return undefined;
  const [grain] = grains;
  return grain ? { grain } : {};
}

/**
 * A cumulative metric's filters split into those on its time alone (they choose the output
 * periods, as MetricFlow applies them after the window) and the rest (they choose rows).
 */
function splitTimeFilters(index: CatalogIndex, model: Model, timeDimension: string, filters: readonly Filter[]): { rows: Filter[]; periods: Filter[] } {
  const custom = customGrainNames(index.catalog);
  const isTime = (text: string): boolean => {
    const ref = parseDimensionRef(text, custom);
    if (ref.kind === 'metric_time') return true;
    const found = locateDimension(index, model, ref);
    return found.ok && found.located.steps.length === 0 && found.located.dimension.name === timeDimension;
  };
  const onlyTime = (f: Filter): boolean => {
    if (f.kind === 'and' || f.kind === 'or') return f.filters.every(onlyTime);
    if (f.kind === 'not') return onlyTime(f.filter);
    return f.kind === 'compare' && isTime(f.dimension);
  };
  const parts = filters.flatMap((f) => (f.kind === 'and' ? f.filters : [f]));
  return { rows: parts.filter((f) => !onlyTime(f)), periods: parts.filter(onlyTime) };
}

export { metricTimeGrain };

/**
 * A distinct count of one column (the entity, e.g. a customer) grouped only by periods of the
 * node's own time and by dimensions the entity fixes (reached through many-to-one joins on
 * that column, without validity windows): the (periods, entity) pairs are found over the
 * base table alone (joined only for what the filters read), and the dimensions joined to
 * the pairs afterwards, instead of joining every row (at a million customers, a month of
 * events joined to the customers before a distinct count of the customers). The pairs'
 * scope holds the filters; undefined when the rewrite does not apply.
 */
function entityDistinct(
  index: CatalogIndex,
  query: PlanQuery,
  model: Model,
  node: AggregatePlanNode,
  scope: NodeScope,
  columns: readonly AggregateColumn[],
  prefix: string,
  subquery: MetricSubquery | undefined,
): { pairs: NodeScope; entitySql: string; timeSql: string; mixed: boolean } | undefined {
  const first = columns.find((c) => isDistinct(c.measure));
  if (!first || first.measure.sql === '*') return undefined;
  const distinct = columns.filter((c) => isDistinct(c.measure));
  if (distinct.some((c) => c.measure.sql !== first.measure.sql)) return undefined;
  // Beside the distinct counts, counts, minimums and maximums add up from partials per
  // (periods, entity) pair (aggregate-node.ts `mixedPairsSql`); with own filters too.
  const mixed = distinct.length < columns.length || (columns.length > 1 && columns.some((c) => c.filter));
  if (columns.some((c) => !['count', 'count_distinct', 'min', 'max'].includes(c.measure.aggregation))) return undefined;
  // A count of the model's own key is a plain count already (aggregate-node.ts).
  if (model.primaryKey.length === 1 && model.primaryKey[0] === first.measure.sql) return undefined;
  const entitySql = first.measure.sql;
  const time = model.dimensions.find((d) => d.name === node.timeDimension);
  if (!time) return undefined;
  const kinds = query.groupBy.map((g, i) => (g.customGrain ? undefined : anchorGroup(index, model, entitySql, g, scope.isPeriod[i] === true)));
  if (kinds.some((k) => k === undefined)) return undefined;
  if (!kinds.some((k) => k === 'entity')) return undefined;
  if (!query.groupBy.every((g, i) => kinds[i] !== 'entity' || reachesWithoutValidity(index, model, g))) return undefined;
  const pairs = buildNodeScope({
    index,
    query: { ...query, groupBy: query.groupBy.filter((_, i) => kinds[i] !== 'entity') },
    model,
    timeDimension: node.timeDimension,
    filters: node.filters,
    offsets: node.offsets,
    prefix: `${prefix}p`,
    ...(subquery ? { subquery } : {}),
  });
  return { pairs, entitySql, timeSql: time.sql, mixed };
}

/** Whether every model a group-by's dimension is reached through carries no validity window. */
function reachesWithoutValidity(index: CatalogIndex, model: Model, g: PlanQuery['groupBy'][number]): boolean {
  if (g.ref.kind === 'metric_time') return false;
  const found = locateDimension(index, model, g.ref);
  return found.ok && found.located.steps.every((s) => index.model(s.join.model).validity === undefined);
}
