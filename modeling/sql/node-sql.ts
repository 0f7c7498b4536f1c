import type { RawBuilder } from 'kysely';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Filter, Grain, Model } from '../catalog/types.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { customGrainNames, parseDimensionRef } from '../catalog/dimension-ref.ts';
import { aggregateNodeSql } from './aggregate-node.ts';
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
      const inner =
        node.nonAdditive && columns.length > 0
          ? semiAdditiveNodeSql(scope, columns, node.nonAdditive, periods, dialect)
          : aggregateNodeSql(scope, columns, { countKeys: rewrites });
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
